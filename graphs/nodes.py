"""The graph's nodes: plain functions `node(state, runtime) -> partial update`.

None of them mutates the state it is given. `review` calls `interrupt()` before doing
anything else, because LangGraph re-runs the whole node when the job is resumed.
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import ValidationError

from graphs.alarm_answer import uncertain_fall_answer
from graphs.answer_checks import (
    restated_flags,
    restates_question,
    stated_disagreement,
    uncertain_alarms,
    wrong_field,
    wrong_field_flags,
)
from graphs.answer_text import is_refusal, plainly_refused, refusal, with_counter
from graphs.comparison_answer import comparison_answer
from graphs.consistency import confidence, conflicts, count_mismatch, tool_flags
from graphs.context import GraphContext
from graphs.contract import Decision, Event, now
from graphs.drafting import draft_facts, draft_request
from graphs.extractive import FieldAnswer, field_answer
from graphs.grounding import SHORT_ANSWER_WORDS, unsupported_claims
from graphs.heard_answer import named_subject_answer
from graphs.injection import instruction_lines
from graphs.peek import glance
from graphs.planner import make_plan, untried_pairs
from graphs.planner import replan as replan_steps
from graphs.policy import route as route_job
from graphs.prompts import NOT_SHOWN, REVISE
from graphs.state import Flag, JobState, PlanStep, Review, Round, StepResult
from graphs.steps import execute_step


def _stamp(state: JobState, name: str) -> dict[str, str]:
    return {**state.get("timestamps", {}), name: now()}


def plan(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Ask the planner which tools to run on which files (round 1)."""
    ctx = runtime.context
    glances = glance(ctx, state["job_id"], state["files"]) if ctx.glance else {}
    before = ctx.llm.last
    steps, notes = make_plan(ctx.llm, state["question"], state["files"], ctx.registry, ctx.tool_ctx, glances,
                             field_plans=ctx.field_plans)
    ctx.emit(state["job_id"], Event.PLANNED, {"plan": steps, "notes": notes, "round": 1, "glances": glances,
                                              "llm": _llm_stats(ctx, before)})
    return {"plan": steps, "plan_notes": notes, "glances": glances, "round": 1,
            "rounds": [Round(round=1, reason="first plan")], "status": "running",
            "timestamps": _stamp(state, "planned")}


def replan(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Look again: the evidence did not answer the question; plan the tools not yet tried."""
    ctx = runtime.context
    round_ = state.get("round", 1) + 1
    reason = state.get("look_again") or "the evidence did not answer the question"
    findings = "\n".join(f"- {f}" for f in state.get("facts", [])) or "- nothing"
    steps, notes = replan_steps(ctx.llm, state["question"], state["files"], ctx.registry, ctx.tool_ctx,
                                done=state["plan"], findings=findings, round_=round_)
    ctx.emit(state["job_id"], Event.REPLANNED, {"round": round_, "reason": reason, "plan": steps, "notes": notes})
    return {"plan": [*state["plan"], *steps], "plan_notes": [*state.get("plan_notes", []), *notes],
            "round": round_, "rounds": [*state.get("rounds", []), Round(round=round_, reason=reason)],
            "look_again": None, "timestamps": _stamp(state, f"replanned_{round_}")}


def execute(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Run the steps not run yet: independent ones at once, each with its timeout; errors become data."""
    ctx = runtime.context
    files = {f["id"]: f for f in state["files"]}
    done: dict[str, StepResult] = {s["step"]: s for s in state.get("steps", [])}
    pending = [s for s in state["plan"] if s["id"] not in done]

    def run(step: PlanStep) -> StepResult:
        return execute_step(ctx, state["job_id"], step, files[step["file"]])

    with ThreadPoolExecutor(max_workers=ctx.max_parallel_steps, thread_name_prefix="step") as pool:
        while pending:
            # A wave: every step whose dependencies are done runs now.
            ready = [s for s in pending if all(d in done for d in s["after"])] or pending
            for result in pool.map(run, ready):
                done[result["step"]] = result
            pending = [s for s in pending if s["id"] not in done]
    steps = [done[s["id"]] for s in state["plan"]]
    return {"steps": steps, "timestamps": _stamp(state, "executed")}


def draft(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Write the answer from the step results and code-computed facts only, citing steps."""
    ctx = runtime.context
    steps, question = state["steps"], state["question"]
    facts = draft_facts(question, steps, state["files"], ctx.alarm_classes, ctx.alarm_floor,
                        ctx.policy()[0].detector_class_min_confidence)
    if not any(s["ok"] for s in steps):
        answer = plainly_refused(question, f"{NOT_SHOWN} anything: no tool produced a result for these files.")
        ctx.emit(state["job_id"], Event.DRAFTED, {"draft_answer": answer})
        return {"facts": facts, "draft_answer": answer, "citations": [], "replaced_draft": None,
                "timestamps": _stamp(state, "drafted")}
    if ctx.extractive_answers and (found := _code_answer(question, steps, ctx)):
        ctx.emit(state["job_id"], Event.DRAFTED, {"draft_answer": found.answer, "citations": found.citations,
                                                  "cited_lines": [], "revisions": 0, "draft_source": "code"})
        return {"facts": facts, "draft_answer": found.answer, "citations": found.citations, "cited_lines": [],
                "draft_revisions": 0, "draft_source": "code", "replaced_draft": None,
                "timestamps": _stamp(state, "drafted")}
    messages, schema = draft_request(question, steps, facts)
    step_ids = [s["step"] for s in steps if s["ok"]]

    def problems_of(answer: str) -> list[str]:
        return (unsupported_claims(answer, steps, facts, question=question) + wrong_field(question, answer, steps)
                + restates_question(question, answer))

    raw = ctx.llm.complete(messages, schema=schema, max_tokens=300, purpose="draft")
    calls = [dataclasses.asdict(ctx.llm.last)]
    reply = json.loads(raw)
    revisions = 0
    problems = problems_of(reply["answer"])
    if problems:
        # One second chance: tell the model what it got wrong. The check node still flags
        # whatever the revised answer gets wrong.
        retry = [*messages, {"role": "assistant", "content": raw},
                 {"role": "user", "content": REVISE.format(problems="\n".join(f"- {p}" for p in problems))}]
        revised = json.loads(ctx.llm.complete(retry, schema=schema, max_tokens=300, purpose="draft"))
        calls.append(dataclasses.asdict(ctx.llm.last))
        if len(problems_of(revised["answer"])) < len(problems):
            reply, revisions = revised, 1
    answer = reply["answer"].strip()
    replaced = None
    if restates_question(question, answer):
        # Saying the question back answers nothing: it is a refusal, and the check says so
        # (and may look again), with the echo kept in its flag for the reviewer.
        replaced = Flag(kind="restates_question", steps=[], message=(
            f"the draft only restated the question ({answer!r}); it was replaced by a refusal"))
        answer = refusal(question)
    elif (len(answer.split()) <= SHORT_ANSWER_WORDS and not is_refusal(answer)
          and (unsupported := unsupported_claims(answer, steps, facts, question=question))):
        # A short answer is its claim: one still unsupported after the revision ("black" for a
        # paint colour no tool sees) is not given as the answer, and the reviewer sees it in the flag.
        replaced = Flag(kind="unsupported_claim", steps=[], message=(
            f"the draft answered {answer!r}, but {'; '.join(unsupported)}; it was replaced by a refusal"))
        answer = refusal(question)
    elif not reply.get("answerable", True) and not is_refusal(answer):
        answer = f"{refusal(question)} {answer}"
    answer = with_counter(question, plainly_refused(question, answer))
    # No "citations" in the schema: there was one thing to cite (`draft_request`), and an
    # answer cites it; a refusal rests on nothing.
    sole = step_ids if "citations" not in schema["properties"] and not is_refusal(answer) else []
    cited = [str(c) for c in reply.get("citations", sole)]
    # A line ref ("s1:p27:l4") cites its step too; the page jumps to the line.
    citations = list(dict.fromkeys(c.split(":")[0] for c in cited if c.split(":")[0] in step_ids))
    cited_lines = list(dict.fromkeys(c for c in cited if ":" in c))
    ctx.emit(state["job_id"], Event.DRAFTED, {"draft_answer": answer, "citations": citations,
                                              "cited_lines": cited_lines, "revisions": revisions,
                                              "draft_source": "llm", "llm": calls})
    return {"facts": facts, "draft_answer": answer, "citations": citations, "cited_lines": cited_lines,
            "draft_revisions": revisions, "draft_source": "llm", "replaced_draft": replaced,
            "timestamps": _stamp(state, "drafted")}


def _code_answer(question: str, steps: list[StepResult], ctx: GraphContext) -> FieldAnswer | None:
    """The answer code gives exactly when the evidence leaves no doubt (a labelled field, a
    comparison of codes, an uncertain fall, a memo naming one machine), or None."""
    return (field_answer(question, steps) or comparison_answer(question, steps)
            or uncertain_fall_answer(question, steps, ctx.alarm_classes, ctx.alarm_floor,
                                     ctx.policy()[0].detector_class_min_confidence)
            or named_subject_answer(question, steps))


def _llm_stats(ctx: GraphContext, before: object) -> dict[str, Any] | None:
    """The LLM call's token counts and llama.cpp timings (for the event log and the benchmark);
    None when no call was made since `before` was read."""
    last = ctx.llm.last
    return dataclasses.asdict(last) if last is not before and dataclasses.is_dataclass(last) else None


def check(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Compare values across evidence, check the draft answers what was asked, score confidence;
    and say whether it is worth looking again (`look_again`, read by the router)."""
    ctx = runtime.context
    steps, answer, question = state["steps"], state["draft_answer"], state["question"]
    flags: list[Flag] = []
    if not state["plan"]:
        flags.append(Flag(kind="no_evidence", steps=[], message="no tool could read the attached files"))
    flags += tool_flags(steps, ctx.low_confidence)
    flags += conflicts(steps)
    flags += count_mismatch(question, steps)
    unanswered = is_refusal(answer)
    if unanswered:
        flags.append(Flag(kind="unanswerable", steps=[],
                          message="the evidence does not answer the question; a person must answer or reject"))
    for problem in unsupported_claims(answer, steps, state.get("facts", []), question=question):
        flags.append(Flag(kind="unsupported_claim", steps=state.get("citations", []), message=problem))
    flags += wrong_field_flags(question, answer, steps)
    flags += restated_flags(question, answer)
    if replaced := state.get("replaced_draft"):
        flags.append(replaced)
    flags += uncertain_alarms(steps, ctx.alarm_classes, ctx.alarm_floor, ctx.policy()[0].detector_class_min_confidence)
    flags += stated_disagreement(answer, steps, flags)
    suspicious = instruction_lines(steps)
    if suspicious:
        flags.append(Flag(kind="instruction_in_evidence", steps=sorted({x.step for x in suspicious}), message=(
            "text in the evidence reads like instructions to the system (treated as data): "
            + " | ".join(repr(x.line) for x in suspicious[:3]))))
    score, explained = confidence(steps, state.get("citations", []), flags)
    return {"flags": flags, "confidence": score, "confidence_explained": explained,
            "look_again": _look_again(state, ctx, unanswered), "timestamps": _stamp(state, "checked")}


def _look_again(state: JobState, ctx: GraphContext, unanswered: bool) -> str | None:
    """Why another planning round may help, or None (answered, no rounds or time left, nothing untried)."""
    if not unanswered or state.get("round", 1) >= ctx.max_rounds:
        return None
    planned = state.get("timestamps", {}).get("planned")
    if planned and (datetime.now(UTC) - datetime.fromisoformat(planned)).total_seconds() > ctx.replan_budget_s:
        return None
    tried = {(s["tool"], s["file"]) for s in state["plan"]}
    if not untried_pairs(list(ctx.registry), state["files"], tried):
        return None
    found = [s for s in state["steps"] if s["ok"]]
    return ("the draft says the evidence does not show the answer"
            + (f" ({len(found)} of {len(state['steps'])} steps found something)" if state["steps"] else ""))


def route(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Apply the review policy once and keep its decision in the state.

    Deciding here, not in `review`, keeps the decision fixed: `review` re-runs on resume,
    and a policy changed meanwhile must not turn a waiting job into an automatic one.
    """
    policy, version = runtime.context.policy()
    routing = route_job(policy, version, dict(state))
    return {"routing": routing.model_dump()}


def auto_approve(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """The policy approved the draft by rule: record that as the decision."""
    routing = state["routing"]
    return {"review": Review(decision="auto_approve", reviewer=f"policy v{routing['policy_version']}",
                             comment="; ".join(routing["reasons"]), at=now())}


def review(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Stop for a person. Nothing is written before `interrupt()`: on resume this node runs again."""
    decision = interrupt({
        "job_id": state["job_id"],
        "question": state["question"],
        "files": [{"id": f["id"], "name": f["name"], "kind": f["kind"], "sha256": f["sha256"]} for f in state["files"]],
        "plan": state["plan"],
        "evidence": [{"step": s["step"], "tool": s["tool"], "produces": s.get("produces"), "file": s["file"],
                      "ok": s["ok"], "summary": s["summary"], "error": s["error"], "confidence": s["confidence"]}
                     for s in state["steps"]],
        "facts": state.get("facts", []),
        "draft_answer": state["draft_answer"],
        "citations": state.get("citations", []),
        "flags": state["flags"],
        "confidence": state["confidence"],
        "routing": state["routing"],
    })
    return {"review": validate_decision(decision)}


def validate_decision(decision: Any) -> Review:
    """A resume value must be a well-formed `Decision`; anything else is refused loudly (ValueError)."""
    try:
        valid = Decision.model_validate(decision)
    except ValidationError as exc:
        raise ValueError("; ".join(e["msg"] for e in exc.errors())) from None
    review_ = Review(decision=valid.decision, reviewer=valid.reviewer or "unknown", at=valid.at or now())
    if valid.answer:
        review_["answer"] = valid.answer
    if valid.comment:
        review_["comment"] = valid.comment
    return review_


def finalize(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Record the outcome: the final answer, or none when rejected."""
    rev = state["review"]
    if rev["decision"] == "reject":
        final, status = None, "rejected"
    elif rev["decision"] == "edit":
        final, status = rev["answer"], "approved"
    else:
        final, status = state["draft_answer"], "approved"
    runtime.context.emit(state["job_id"], Event.FINALIZED, {"status": status, "final_answer": final, "review": rev})
    return {"final_answer": final, "status": status, "timestamps": _stamp(state, "finalized")}
