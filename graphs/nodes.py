"""The graph's nodes: plain functions `node(state, runtime) -> partial update`.

None of them mutates the state it is given. `review` calls `interrupt()` before doing
anything else, because LangGraph re-runs the whole node when the job is resumed.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from graphs.cache import cache_key
from graphs.consistency import conflicts, confidence, count_mismatch, tool_flags
from graphs.context import GraphContext
from graphs.drafting import draft_facts, draft_request
from graphs.grounding import unsupported_claims
from graphs.planner import make_plan
from graphs.policy import route as route_job
from graphs.prompts import NOT_SHOWN, REVISE
from graphs.state import Flag, JobState, PlanStep, Review, StepResult
from tools.runner import run_tool


def now() -> str:
    """UTC timestamp in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _stamp(state: JobState, name: str) -> dict[str, str]:
    return {**state.get("timestamps", {}), name: now()}


def plan(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Ask the planner which tools to run on which files."""
    ctx = runtime.context
    steps, notes = make_plan(ctx.llm, state["question"], state["files"], ctx.registry, ctx.tool_ctx)
    ctx.emit(state["job_id"], "planned", {"plan": steps, "notes": notes})
    return {"plan": steps, "plan_notes": notes, "status": "running", "timestamps": _stamp(state, "planned")}


def execute(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Run the plan: independent steps at once, each with its timeout; errors become data."""
    ctx = runtime.context
    files = {f["id"]: f for f in state["files"]}
    done: dict[str, StepResult] = {}
    pending = list(state["plan"])

    def run_step(step: PlanStep) -> StepResult:
        spec = ctx.registry.get(step["tool"])
        attachment = files[step["file"]]
        key = cache_key(spec.name, spec.version, attachment["sha256"], step["args"])
        ctx.emit(state["job_id"], "step_started", {"step": step["id"], "tool": step["tool"], "file": step["file"]})
        with ctx.single_flight.lock(key):
            looked_up = time.perf_counter()
            cached = ctx.cache.get(key)
            if cached is not None:  # the step took as long as the lookup
                run = {**cached, "duration_ms": (time.perf_counter() - looked_up) * 1000}
            elif ctx.run_elsewhere and (remote := ctx.run_elsewhere(state["job_id"], spec, attachment,
                                                                     step["args"], key)) is not None:
                run = remote  # the worker that ran it has put a success in the shared cache
            else:
                run = run_tool(spec, ctx.artifact_path(attachment), step["args"], ctx.tool_ctx).model_dump(mode="json")
                if run["ok"]:
                    ctx.cache.put(key, run)
        result = StepResult(
            step=step["id"], tool=step["tool"], file=step["file"], ok=run["ok"], summary=run["summary"],
            confidence=run["confidence"], result=run["result"], error=run["error"],
            error_kind=run["error_kind"], duration_ms=run["duration_ms"], cached=cached is not None,
        )
        ctx.emit(state["job_id"], "step_finished", {k: result[k] for k in ("step", "tool", "ok", "summary", "error", "duration_ms", "cached")})  # type: ignore[literal-required]
        return result

    with ThreadPoolExecutor(max_workers=ctx.max_parallel_steps, thread_name_prefix="step") as pool:
        while pending:
            # A wave: every step whose dependencies are done runs now.
            ready = [s for s in pending if all(d in done for d in s["after"])] or pending
            for result in pool.map(run_step, ready):
                done[result["step"]] = result
            pending = [s for s in pending if s["id"] not in done]
    steps = [done[s["id"]] for s in state["plan"]]
    return {"steps": steps, "timestamps": _stamp(state, "executed")}


def draft(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Write the answer from the step results and code-computed facts only, citing steps."""
    ctx = runtime.context
    steps = state["steps"]
    facts = draft_facts(state["question"], steps, state["files"])
    if not any(s["ok"] for s in steps):
        answer = f"{NOT_SHOWN} anything: no tool produced a result for these files."
        ctx.emit(state["job_id"], "drafted", {"draft_answer": answer})
        return {"facts": facts, "draft_answer": answer, "citations": [], "timestamps": _stamp(state, "drafted")}
    messages, schema = draft_request(state["question"], steps, facts)
    step_ids = [s["step"] for s in steps if s["ok"]]
    raw = ctx.llm.complete(messages, schema=schema, max_tokens=300, purpose="draft")
    reply = json.loads(raw)
    revisions = 0
    problems = unsupported_claims(reply["answer"], steps, facts)
    if problems:
        # One second chance: tell the model what it stated without evidence. The check
        # node still flags whatever the revised answer gets wrong.
        retry = [*messages, {"role": "assistant", "content": raw},
                 {"role": "user", "content": REVISE.format(problems="\n".join(f"- {p}" for p in problems))}]
        revised = json.loads(ctx.llm.complete(retry, schema=schema, max_tokens=300, purpose="draft"))
        if len(unsupported_claims(revised["answer"], steps, facts)) < len(problems):
            reply, revisions = revised, 1
    answer = reply["answer"].strip()
    if not reply.get("answerable", True) and NOT_SHOWN.lower() not in answer.lower():
        answer = f"{NOT_SHOWN} the answer. {answer}"
    citations = list(dict.fromkeys(c for c in reply.get("citations", []) if c in step_ids))
    ctx.emit(state["job_id"], "drafted", {"draft_answer": answer, "citations": citations, "revisions": revisions})
    return {"facts": facts, "draft_answer": answer, "citations": citations, "draft_revisions": revisions,
            "timestamps": _stamp(state, "drafted")}


def check(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Compare values across evidence, check the draft's claims, score confidence."""
    ctx = runtime.context
    steps, answer = state["steps"], state["draft_answer"]
    flags: list[Flag] = []
    if not state["plan"]:
        flags.append(Flag(kind="no_evidence", steps=[], message="no tool could read the attached files"))
    flags += tool_flags(steps, ctx.low_confidence)
    flags += conflicts(steps)
    flags += count_mismatch(state["question"], steps)
    if NOT_SHOWN.lower() in answer.lower():
        flags.append(Flag(kind="unanswerable", steps=[],
                          message="the evidence does not answer the question; a person must answer or reject"))
    for problem in unsupported_claims(answer, steps, state.get("facts", [])):
        flags.append(Flag(kind="unsupported_claim", steps=state.get("citations", []), message=problem))
    score, explained = confidence(steps, state.get("citations", []), flags)
    return {"flags": flags, "confidence": score, "confidence_explained": explained,
            "timestamps": _stamp(state, "checked")}


def route(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Apply the review policy once and keep its decision in the state.

    Deciding here, not in `review`, keeps the decision fixed: `review` re-runs on resume,
    and a policy changed meanwhile must not turn a waiting job into an automatic one.
    """
    policy, version = runtime.context.policy()
    routing = route_job(policy, version, dict(state))
    return {"routing": routing.model_dump()}


def review(state: JobState, runtime: Runtime[GraphContext]) -> dict[str, Any]:
    """Stop for a person unless the policy approved the draft by rule.

    Nothing is written before `interrupt()`: on resume this node runs again from the top.
    """
    routing = state["routing"]
    if routing["route"] == "auto":
        return {"review": Review(decision="auto_approve", reviewer=f"policy v{routing['policy_version']}",
                                 comment="; ".join(routing["reasons"]), at=now())}
    decision = interrupt({
        "job_id": state["job_id"],
        "question": state["question"],
        "files": [{k: f[k] for k in ("id", "name", "kind", "sha256")} for f in state["files"]],  # type: ignore[literal-required]
        "plan": state["plan"],
        "evidence": [{k: s[k] for k in ("step", "tool", "file", "ok", "summary", "error", "confidence")} for s in state["steps"]],  # type: ignore[literal-required]
        "facts": state.get("facts", []),
        "draft_answer": state["draft_answer"],
        "citations": state.get("citations", []),
        "flags": state["flags"],
        "confidence": state["confidence"],
        "routing": routing,
    })
    return {"review": validate_decision(decision)}


def validate_decision(decision: Any) -> Review:
    """A resume value must be a well-formed decision; anything else is refused loudly."""
    if not isinstance(decision, dict) or decision.get("decision") not in ("approve", "edit", "reject"):
        raise ValueError("a review decision must be {'decision': 'approve'|'edit'|'reject', ...}")
    if decision["decision"] == "edit" and not str(decision.get("answer") or "").strip():
        raise ValueError("an 'edit' decision needs the corrected answer")
    if decision["decision"] == "reject" and not str(decision.get("comment") or "").strip():
        raise ValueError("a 'reject' decision needs a reason in 'comment'")
    review_: Review = {"decision": decision["decision"], "reviewer": str(decision.get("reviewer") or "unknown"),
                       "at": decision.get("at") or now()}
    if decision.get("answer"):
        review_["answer"] = str(decision["answer"])
    if decision.get("comment"):
        review_["comment"] = str(decision["comment"])
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
    runtime.context.emit(state["job_id"], "finalized", {"status": status, "final_answer": final, "review": rev})
    return {"final_answer": final, "status": status, "timestamps": _stamp(state, "finalized")}
