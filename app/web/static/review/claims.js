// Review page: claims — a reviewer holds the job they opened (POST /v1/reviews/{id}/claim) so
// nobody else decides it meanwhile; the claim is renewed while the job stays open, and a job
// someone else holds (or already decided) cannot be decided here.

import { api, session } from "../common.js";
import { updateButtons } from "./decision.js";
import { showNote, state } from "./state.js";
import { t } from "../i18n.js";

const CLAIM_RENEW_MS = 60_000; // renew our claim when less than this is left on it

/** Claim `jobId`; returns null, or the error (409: another reviewer holds it). */
export async function claim(jobId, token) {
  try {
    const c = await api(`/v1/reviews/${encodeURIComponent(jobId)}/claim`, { method: "POST" });
    if (token === state.token) state.claim = c;
    return null;
  } catch (e) {
    if (token === state.token) {
      state.claim = null;
      state.claimBlocked = e.status === 409;
    }
    return e;
  }
}

/** Another reviewer holds a live claim on this queue item. */
export function heldByOther(item) {
  if (!item.claimed_by || item.claimed_by === session.me?.name) return false;
  return !item.claimed_until || Date.parse(item.claimed_until) > Date.now();
}

/** After each queue refresh: block a job that left the queue, renew our claim when it runs low. */
export function checkClaim() {
  const job = state.current;
  if (!job || state.decided) return;
  if (!state.queue.some((q) => q.id === job.id) && job.status === "awaiting_review") {
    showNote(t("job.left_queue"), "warn");
    state.claimBlocked = true;
    updateButtons();
  }
  if (state.claim && Date.parse(state.claim.claimed_until) - Date.now() < CLAIM_RENEW_MS) {
    claim(job.id, state.token);
  }
}
