// Review page: the plan and its steps — what ran on which file, how long it took, how sure it
// was, the raw result; grouped by planning round when the agent looked again. Step chips
// (in flags and citations) open a step and scroll to it.

import { el } from "../common.js";
import { duration, num, state } from "./state.js";
import { t } from "../i18n.js";

/**
 * The planning rounds of a job: `roundOf(step)` is the round that chose a step (from the step,
 * else its plan entry; 1 when neither says), `count` the last round, and `multi` whether the agent
 * planned more than once.
 */
export function roundsOf(job) {
  const planRound = new Map((job.plan ?? []).map((p) => [p.id, p.round]));
  const roundOf = (step) => Number(step?.round ?? planRound.get(step?.step ?? step?.id) ?? 1) || 1;
  const count = Math.max(1, ...[...(job.plan ?? []), ...(job.steps ?? [])].map(roundOf));
  return { multi: count > 1, count, roundOf };
}

/**
 * "Round 2: looked again — <reason>", with the reason from the job's `rounds` when it has one.
 * The reason is the planner's own free text (English or whatever the model wrote): it is shown
 * as data inside the translated frame.
 */
export function roundTitle(job, round) {
  const reason = (job.rounds ?? []).find((r) => Number(r?.round) === round)?.reason;
  if (round === 1) return t("steps.round_first", { reason: reason || t("steps.round_first_plan") });
  return reason ? t("steps.round_again_reason", { round, reason }) : t("steps.round_again", { round });
}

/** The step rows: every planned step (run or not), then any step that ran without a plan entry. */
export function renderSteps(job) {
  const plan = job.plan ?? [];
  const byId = new Map((job.steps ?? []).map((s) => [s.step, s]));
  const planned = plan.map((p) => [p, byId.get(p.id)]);
  const extra = (job.steps ?? []).filter((s) => !plan.some((p) => p.id === s.step)).map((s) => [null, s]);
  const rows = [...planned, ...extra];
  if (!rows.length) return [el("p", { class: "muted" }, t("steps.no_step"))];

  const { multi, roundOf } = roundsOf(job);
  const fileName = (id) => job.files.find((f) => f.id === id)?.name ?? id;
  const stepRow = ([p, run]) => renderStep(p, run, fileName);
  if (!multi) return rows.map(stepRow);

  const rounds = new Map();
  for (const row of rows) {
    const round = roundOf(row[1] ?? { id: row[0].id, round: row[0].round });
    if (!rounds.has(round)) rounds.set(round, []);
    rounds.get(round).push(row);
  }
  return [...rounds.keys()].sort((a, b) => a - b).map((round) =>
    el("section", { class: `round${round > 1 ? " again" : ""}`, data: { round: String(round) } },
      el("h4", { class: "round-head" }, roundTitle(job, round)),
      rounds.get(round).map(stepRow)));
}

function renderStep(plan, run, fileName) {
  const id = plan?.id ?? run.step;
  const tool = plan?.tool ?? run.tool;
  const args = plan?.args && Object.keys(plan.args).length ? JSON.stringify(plan.args) : "";
  const status = !run ? "pending" : run.ok ? "ok" : "failed";
  const details = el("details", { class: `step ${status}`, open: status === "failed", data: { step: id } },
    el("summary", {},
      el("span", { class: `dot ${status}`, title: t(`steps.state_${status}`) }),
      el("strong", {}, id), " ", t("steps.on_file", { tool, file: fileName(plan?.file ?? run.file) }),
      args ? el("code", { class: "args" }, args) : null,
      plan?.origin === "coverage" ? el("span", { class: "pill", title: t("steps.coverage_title") }, t("steps.coverage")) : null,
      run?.cached ? el("span", { class: "pill" }, t("steps.cached")) : null,
      el("span", { class: "step-meta" }, run ? `${duration(run.duration_ms)} · ${t("steps.conf", { value: num(run.confidence) })}` : t("steps.not_run"))),
    run?.summary ? el("pre", { class: "summary" }, run.summary) : null,
    run && !run.ok ? el("p", { class: "step-error" }, `${run.error_kind ?? "error"}: ${run.error ?? t("steps.no_detail")}`) : null,
    run?.result ? el("details", { class: "raw" }, el("summary", {}, t("steps.raw_result")), el("pre", {}, JSON.stringify(run.result, null, 2))) : null);
  state.stepEls.set(id, details);
  return details;
}

/** Scroll to `node` and mark it for a moment (a cited step or line). */
function flash(node) {
  node.scrollIntoView({ behavior: "smooth", block: "center" });
  node.classList.add("hot");
  setTimeout(() => node.classList.remove("hot"), 1500);
}

/** A chip for a cited line of long evidence ("s1:p27:l4"): open its step, scroll to the line. */
export function lineChip(ref) {
  const [stepId, ...where] = ref.split(":");
  return el("button", {
    type: "button",
    class: "chip line-ref",
    title: t("steps.show_line"),
    onclick: () => {
      const d = state.stepEls.get(stepId);
      if (d) d.open = true;
      const line = document.querySelector(`[data-ref="${CSS.escape(ref)}"]`);
      if (line) flash(line);
    },
  }, `${stepId} ${where.join(" ")}`);
}

/** A small button naming a step; it opens that step's details and scrolls to it. */
export function stepChip(stepId) {
  return el("button", {
    type: "button",
    class: "chip",
    title: t("steps.show_step"),
    onclick: () => {
      const d = state.stepEls.get(stepId);
      if (!d) return;
      d.open = true;
      flash(d);
    },
  }, stepId);
}
