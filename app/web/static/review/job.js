// Review page: one open job — claim it and fetch its document, then show the banner (flags,
// confidence), the question, each file with its evidence, the plan's steps, the draft and the
// facts; or close it when the queue has nothing left to open.

import { $, api, el, pct } from "../common.js";
import { explainConfidence, flagItem } from "./banner.js";
import { ago, t, tOr } from "../i18n.js";
import { claim } from "./claims.js";
import { updateButtons } from "./decision.js";
import { renderFile } from "./evidence.js";
import { nextInQueue, renderQueue } from "./queue.js";
import { level, releaseBlobs, showNote, state } from "./state.js";
import { lineChip, renderSteps, roundsOf, stepChip } from "./steps.js";

/** Open `jobId` again after it changed under the reviewer, and say why at the top of it. */
export async function reloadJob(jobId, message) {
  await openJob(jobId);
  if (state.current?.id === jobId) showNote(message, "warn");
}

export async function openJob(jobId) {
  const token = ++state.token;
  releaseBlobs();
  Object.assign(state, { claim: null, claimBlocked: false, decided: false });
  $("job").classList.add("loading");
  history.replaceState(null, "", `#${encodeURIComponent(jobId)}`);
  const [claimError, job] = await Promise.all([
    claim(jobId, token),
    api(`/v1/jobs/${encodeURIComponent(jobId)}`).catch((e) => e),
  ]);
  if (token !== state.token) return;
  $("job").classList.remove("loading");
  if (job instanceof Error) {
    closeJob(t("job.cannot_open", { id: jobId, error: job.message }));
    return;
  }
  state.current = job;
  renderJob(job, token);
  if (claimError && job.status === "awaiting_review") {
    const why = claimError.status === 409 ? t("job.another_reviewer") : t("job.cannot_claim");
    showNote(`${why}: ${claimError.message}`, claimError.status === 409 ? "warn" : "error");
  }
  renderQueue();
}

/** Open the job after `afterId` in queue order that nobody else holds, or say why there is none. */
export function openNext(afterId) {
  const next = nextInQueue(afterId);
  if (next) return openJob(next.id);
  const others = state.queue.some((j) => j.id !== afterId);
  // Still queued after this reviewer's decision: it waits for another reviewer (two-person rule).
  const waiting = state.queue.some((j) => j.id === afterId);
  closeJob(others ? t("job.all_held") : waiting ? t("job.waits_for_other") : t("job.queue_empty"));
}

export function closeJob(message) {
  state.token++;
  releaseBlobs();
  Object.assign(state, { current: null, claim: null, claimBlocked: false, decided: false });
  history.replaceState(null, "", location.pathname);
  $("job-view").hidden = true;
  $("job-empty").hidden = false;
  $("job-empty").textContent = message;
  renderQueue();
}

function renderJob(job, token) {
  $("job-empty").hidden = true;
  $("job-view").hidden = false;
  $("claim-note").hidden = true;
  $("decision-error").textContent = "";
  state.stepEls = new Map();

  renderBanner(job);
  $("question").textContent = job.question;
  const { multi, count, roundOf } = roundsOf(job);
  $("job-meta").textContent = [
    t("job.id", { id: job.id }),
    tOr("status", job.status, job.status.replace("_", " ")),
    t("job.submitted", { ago: ago(job.created_at) }),
    t("job.files", { count: job.files.length }),
    multi ? t("job.rounds", { count }) : null,
    (job.approvals_needed ?? 1) > 1 ? t("job.approvals", { count: (job.approvals ?? []).length, needed: job.approvals_needed }) : null,
    (job.approvals ?? []).length ? t("job.approved_by", { names: job.approvals.map((a) => a.reviewer).join(", ") }) : null,
  ].filter(Boolean).join(" · ");

  $("steps").replaceChildren(...renderSteps(job));
  $("plan-notes").replaceChildren(...(job.plan_notes ?? []).map((n) => el("li", {}, n)));
  $("files").replaceChildren(...job.files.map((f) => renderFile(f, job, token, roundOf)));
  $("facts").replaceChildren(
    ...((job.facts ?? []).length ? job.facts.map((f) => el("li", {}, f)) : [el("li", { class: "muted" }, t("common.none"))]),
  );
  const cites = job.citations ?? [];
  const lines = job.cited_lines ?? [];
  // Who wrote the draft: code (a labelled value, a comparison, an uncertain fall, a named
  // machine: graphs/nodes.py _code_answer), or the LLM.
  const source = { code: t("review.written_by_code"), llm: t("review.written_by_llm") }[job.draft_source];
  $("citations").replaceChildren(...(cites.length ? [`${t("review.citations_label")} `, ...cites.map((s) => stepChip(s)), ...lines.map((r) => lineChip(r))]
    : [t("review.cites_no_step")]), ...(source ? [" · ", el("span", { id: "draft-source" }, source)] : []));

  // A decided job shows what was decided (the edited answer), not the draft it started from.
  // Under a two-person rule, another reviewer's edit is the answer now being approved.
  const pending = job.candidate_answer ?? job.draft_answer;
  $("answer").value = (job.status === "awaiting_review" ? pending : job.final_answer ?? job.draft_answer) ?? "";
  $("comment").value = "";
  if (job.status === "awaiting_review" && job.candidate_answer) showNote(t("job.candidate"), "warn");
  if (job.error) showNote(t("job.error", { error: job.error }), "error");
  if (job.status !== "awaiting_review") {
    const r = job.review;
    const how = r ? `${t("job.decided_by", { decision: tOr("decisions", r.decision, r.decision), reviewer: r.reviewer ?? "?" })}${r.comment ? ` — “${r.comment}”` : ""}` : "";
    const status = tOr("status", job.status, job.status.replace("_", " "));
    showNote(how ? t("job.status_is_how", { status, how }) : t("job.status_is", { status }), "warn");
  }
  updateButtons();
  $("job").scrollTop = 0;
}

function renderBanner(job) {
  const flags = job.flags ?? [];
  $("banner").className = `banner ${flags.length ? "flagged" : "clear"}`;
  $("banner").dataset.flags = String(flags.length);
  $("conf-value").textContent = pct(job.confidence);
  $("conf-value").className = `conf-value ${level(job.confidence)}`;
  $("conf-fill").style.width = `${Math.round((job.confidence ?? 0) * 100)}%`;
  $("conf-fill").className = `conf-fill ${level(job.confidence)}`;
  $("flags-title").textContent = flags.length ? t("job.flags_to_check", { count: flags.length }) : t("job.no_flags");
  $("flags-list").replaceChildren(...flags.map((f) => flagItem(f, (f.steps ?? []).map((s) => stepChip(s)))));
  $("conf-explained").replaceChildren(...explainConfidence(job.confidence_explained));
}
