// Review page: the reviewer's decision — approve the draft, approve an edited draft, or reject
// with a reason — and which of those buttons the open job allows.

import { $, api } from "../common.js";
import { state, toast } from "./state.js";
import { t, tOr } from "../i18n.js";

// Set by setUpDecision: what the page does once a decision is saved, or when it was too late.
const hooks = { onDecided: (_jobId) => {}, onConflict: () => {}, onStale: (_jobId, _message) => {} };

// Under a two-person rule the answer being approved may be another reviewer's edit.
const draftText = () => (state.current?.candidate_answer ?? state.current?.draft_answer ?? "").trim();

/** The reviewer changed the draft in the editor. */
export const isEdited = () => $("answer").value.trim() !== draftText();

/** Enable only what the open job allows: nothing while another reviewer holds it or once decided. */
export function updateButtons() {
  const job = state.current;
  const open = !!job && job.status === "awaiting_review" && !state.claimBlocked && !state.decided && !state.busy;
  const edited = !!job && isEdited();
  $("btn-approve").disabled = !open || edited;
  $("btn-approve").title = edited ? t("decision.edit_hint") : "";
  $("btn-edit").disabled = !open || !edited || !$("answer").value.trim();
  $("btn-reject").disabled = !open;
  $("edited").hidden = !edited;
  $("reset-draft").hidden = !edited;
}

/** Approve: the edited answer when the reviewer changed the draft, else the draft itself. */
export function approve() {
  (isEdited() ? $("btn-edit") : $("btn-approve")).click();
}

/** Send `decision` ("approve", "edit" or "reject") for the open job, if its buttons allow it. */
export async function decide(decision) {
  const job = state.current;
  if (!job || $("btn-reject").disabled) return;
  const answer = $("answer").value.trim();
  const comment = $("comment").value.trim();
  if (decision === "reject" && !comment) {
    $("decision-error").textContent = t("decision.say_why");
    $("comment").focus();
    return;
  }
  // The fingerprint binds the decision to exactly what this page shows; a job changed since is refused.
  const body = { decision, fingerprint: job.fingerprint };
  if (decision === "edit") body.answer = answer;
  if (comment) body.comment = comment;
  state.busy = true;
  updateButtons();
  $("decision-error").textContent = "";
  try {
    const doc = await api(`/v1/reviews/${encodeURIComponent(job.id)}`, { method: "POST", json: body });
    state.decided = true;
    if (doc.status === "awaiting_review" && decision !== "reject" && (doc.approvals_needed ?? 1) > 1) {
      // Counted, not final: the job goes on to another reviewer.
      toast(t("decision.counted", { id: job.id, count: (doc.approvals ?? []).length, needed: doc.approvals_needed }), "ok");
      hooks.onConflict(); // the queue refreshes: the job stays there, now "1 of 2"
      hooks.onDecided(job.id);
      return;
    }
    const said = { approve: "decision.approved", edit: "decision.edited", reject: "decision.rejected" }[decision];
    const status = tOr("status", doc.status, doc.status);
    toast(t(said, { id: job.id, status, answer: doc.final_answer ?? "", comment }),
      decision === "reject" ? "warn" : "ok");
    state.queue = state.queue.filter((q) => q.id !== job.id);
    hooks.onDecided(job.id);
  } catch (e) {
    $("decision-error").textContent = t("decision.not_saved", { error: e.message });
    if (e.status === 409) {
      hooks.onConflict();
      // Changed under the reviewer: show the job as it is now, and say why.
      const now = await api(`/v1/jobs/${encodeURIComponent(job.id)}`).catch(() => null);
      if (now && now.fingerprint !== job.fingerprint) hooks.onStale(job.id, t("decision.stale", { id: job.id }));
    }
  } finally {
    state.busy = false;
    updateButtons();
  }
}

/** Wire the editor and the buttons; `onDecided(jobId)` moves on, `onConflict()` refreshes the queue,
 * `onStale(jobId, message)` reloads a job that changed since it was opened and says why. */
export function setUpDecision({ onDecided, onConflict, onStale }) {
  Object.assign(hooks, { onDecided, onConflict, onStale });
  $("answer").addEventListener("input", updateButtons);
  $("reset-draft").addEventListener("click", () => {
    $("answer").value = state.current?.candidate_answer ?? state.current?.draft_answer ?? "";
    updateButtons();
  });
  $("btn-approve").addEventListener("click", () => decide("approve"));
  $("btn-edit").addEventListener("click", () => decide("edit"));
  $("btn-reject").addEventListener("click", () => decide("reject"));
}
