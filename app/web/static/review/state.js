// Review page: what its modules share — the page's state, small formats, uploaded files as
// blob: URLs, and the two places it speaks to the reviewer (the note over the job, the toast).

import { $, api } from "../common.js";
import { duration as spoken, number } from "../i18n.js";

const TOAST_MS = 9000;

export const state = {
  queue: [],
  current: null, // the open job document
  claim: null, // our claim on the open job ({claimed_until}), or null
  claimBlocked: false, // another reviewer holds the open job
  decided: false,
  busy: false,
  token: 0, // bumped whenever a job opens, so late responses for an old job are dropped
  blobUrls: [],
  stepEls: new Map(), // step id -> <details>, for citation and flag links
  queueSignature: "",
  refreshTimer: null,
  toastTimer: null,
};

// ---------------------------------------------------------------- formats

export const level = (x) => (x == null ? "none" : x < 0.5 ? "low" : x < 0.8 ? "mid" : "high");
/** A confidence or probability with `d` decimals, in the page's locale. */
export const num = (x, d = 2) => number(x, d);
/** A step's run time in milliseconds, in the locale's units ("850 ms", "1.2 s", "1.2 秒"). */
export const duration = (ms) => spoken(Number(ms) / 1000, { ms: true });

/** How long ago an ISO timestamp was, at most two units, in the locale ("5 min", "2 hr, 3 min", "5分"). */
export function age(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return "";
  return spoken(s);
}

/** Seconds into a recording as m:ss.s. */
export function clock(seconds) {
  const m = Math.floor(seconds / 60);
  return `${m}:${(seconds - m * 60).toFixed(1).padStart(4, "0")}`;
}

// ---------------------------------------------------------------- uploaded files

/** An uploaded file as a blob: URL (the artifact route needs our header, <img> cannot send it). */
export async function artifactUrl(sha256, type) {
  let blob = await api(`/v1/artifacts/${encodeURIComponent(sha256)}`, { blob: true });
  if (type && blob.type !== type) blob = new Blob([blob], { type });
  const url = URL.createObjectURL(blob);
  state.blobUrls.push(url);
  return url;
}

export function releaseBlobs() {
  for (const url of state.blobUrls) URL.revokeObjectURL(url);
  state.blobUrls = [];
}

// ---------------------------------------------------------------- messages

/** A message over the open job: why it cannot be decided, or what happened to it. */
export function showNote(text, kind) {
  const note = $("claim-note");
  note.textContent = text;
  note.className = `claim-note ${kind}`;
  note.hidden = false;
}

/** A message in the corner that goes away on its own (decisions saved). */
export function toast(text, kind = "ok") {
  const box = $("toast");
  box.textContent = text;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => (box.hidden = true), TOAST_MS);
}
