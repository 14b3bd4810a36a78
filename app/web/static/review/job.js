// Review page: one open job — claim it and fetch its document, then show the banner (flags,
// confidence), the question, each file with its evidence, the plan's steps, the draft and the
// facts; or close it when the queue has nothing left to open.

import { $, api, el, pct, plural } from "../common.js";
import { claim } from "./claims.js";
import { updateButtons } from "./decision.js";
import { renderFile } from "./evidence.js";
import { nextInQueue, renderQueue } from "./queue.js";
import { age, level, releaseBlobs, showNote, state } from "./state.js";
import { lineChip, renderSteps, roundsOf, stepChip } from "./steps.js";

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
    closeJob(`Could not open job ${jobId}: ${job.message}`);
    return;
  }
  state.current = job;
  renderJob(job, token);
  if (claimError && job.status === "awaiting_review") {
    const why = claimError.status === 409 ? "Another reviewer is on this job" : "Could not claim this job";
    showNote(`${why}: ${claimError.message}`, claimError.status === 409 ? "warn" : "error");
  }
  renderQueue();
}

/** Open the job after `afterId` in queue order that nobody else holds, or say why there is none. */
export function openNext(afterId) {
  const next = nextInQueue(afterId);
  if (next) return openJob(next.id);
  const others = state.queue.some((j) => j.id !== afterId);
  closeJob(others ? "Every job in the queue is held by another reviewer." : "Queue is empty. New jobs appear on their own.");
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
    `job ${job.id}`,
    job.status.replace("_", " "),
    `submitted ${age(job.created_at)} ago`,
    plural(job.files.length, "file"),
    multi ? plural(count, "planning round") : null,
  ].filter(Boolean).join(" · ");

  $("steps").replaceChildren(...renderSteps(job));
  $("plan-notes").replaceChildren(...(job.plan_notes ?? []).map((n) => el("li", {}, n)));
  $("files").replaceChildren(...job.files.map((f) => renderFile(f, job, token, roundOf)));
  $("facts").replaceChildren(
    ...((job.facts ?? []).length ? job.facts.map((f) => el("li", {}, f)) : [el("li", { class: "muted" }, "none")]),
  );
  const cites = job.citations ?? [];
  const lines = job.cited_lines ?? [];
  $("citations").replaceChildren(...(cites.length ? ["cites ", ...cites.map((s) => stepChip(s)), ...lines.map((r) => lineChip(r))]
    : ["cites no step"]));

  // A decided job shows what was decided (the edited answer), not the draft it started from.
  $("answer").value = (job.status === "awaiting_review" ? job.draft_answer : job.final_answer ?? job.draft_answer) ?? "";
  $("comment").value = "";
  if (job.error) showNote(`Error: ${job.error}`, "error");
  if (job.status !== "awaiting_review") {
    const r = job.review;
    const how = r ? `${r.decision} by ${r.reviewer ?? "?"}${r.comment ? ` — “${r.comment}”` : ""}` : "";
    showNote(`This job is ${job.status.replace("_", " ")}${how ? `: ${how}` : ""}.`, "warn");
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
  $("flags-title").textContent = flags.length ? `${plural(flags.length, "flag")} to check` : "No flags raised";
  $("flags-list").replaceChildren(
    ...flags.map((f) =>
      el("li", {}, el("span", { class: "pill flag" }, f.kind), " ", f.message, " ", (f.steps ?? []).map((s) => stepChip(s))),
    ),
  );
  $("conf-explained").textContent = job.confidence_explained ?? "";
}
