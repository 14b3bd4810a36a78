// Review page: the reviewer's decision — approve the draft, approve an edited draft, or reject
// with a reason — and which of those buttons the open job allows.

import { $, api } from "../common.js";
import { state, toast } from "./state.js";

// Set by setUpDecision: what the page does once a decision is saved, or when it was too late.
const hooks = { onDecided: (_jobId) => {}, onConflict: () => {} };

const draftText = () => (state.current?.draft_answer ?? "").trim();

/** The reviewer changed the draft in the editor. */
export const isEdited = () => $("answer").value.trim() !== draftText();

/** Enable only what the open job allows: nothing while another reviewer holds it or once decided. */
export function updateButtons() {
  const job = state.current;
  const open = !!job && job.status === "awaiting_review" && !state.claimBlocked && !state.decided && !state.busy;
  const edited = !!job && isEdited();
  $("btn-approve").disabled = !open || edited;
  $("btn-approve").title = edited ? "You changed the draft: use Save edit & approve, or reset to the draft" : "";
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
    $("decision-error").textContent = "Say why in the comment before rejecting.";
    $("comment").focus();
    return;
  }
  const body = { decision };
  if (decision === "edit") body.answer = answer;
  if (comment) body.comment = comment;
  state.busy = true;
  updateButtons();
  $("decision-error").textContent = "";
  try {
    const doc = await api(`/v1/reviews/${encodeURIComponent(job.id)}`, { method: "POST", json: body });
    state.decided = true;
    const verb = { approve: "Approved", edit: "Edited and approved", reject: "Rejected" }[decision];
    toast(`${verb} job ${job.id} (${doc.status}). ${doc.final_answer != null ? `Final answer: ${doc.final_answer}` : `Comment: ${comment}`}`,
      decision === "reject" ? "warn" : "ok");
    state.queue = state.queue.filter((q) => q.id !== job.id);
    hooks.onDecided(job.id);
  } catch (e) {
    $("decision-error").textContent = `Not saved: ${e.message}`;
    if (e.status === 409) hooks.onConflict();
  } finally {
    state.busy = false;
    updateButtons();
  }
}

/** Wire the editor and the buttons; `onDecided(jobId)` moves on, `onConflict()` refreshes the queue. */
export function setUpDecision({ onDecided, onConflict }) {
  Object.assign(hooks, { onDecided, onConflict });
  $("answer").addEventListener("input", updateButtons);
  $("reset-draft").addEventListener("click", () => {
    $("answer").value = state.current?.draft_answer ?? "";
    updateButtons();
  });
  $("btn-approve").addEventListener("click", () => decide("approve"));
  $("btn-edit").addEventListener("click", () => decide("edit"));
  $("btn-reject").addEventListener("click", () => decide("reject"));
}
