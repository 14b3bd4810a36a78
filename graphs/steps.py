"""Run one plan step: from the cache, on a worker of the tool's resource class, or here.

`run_once` is the single place a tool call is made for a job: the execute node calls it
through `execute_step`, and the scale-out worker task that runs a step for another
worker calls it too (with no `run_elsewhere`), so both cache and report alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphs.cache import ResultCache, SingleFlight, cache_key
from graphs.context import GraphContext, RemoteRunner
from graphs.contract import Event
from graphs.policy import drop_unread_lines
from graphs.state import Attachment, PlanStep, StepResult
from tools.context import ToolContext
from tools.registry import ToolSpec
from tools.runner import run_tool


def run_once(
    spec: ToolSpec,
    attachment: Attachment,
    args: dict[str, Any],
    *,
    cache: ResultCache,
    single_flight: SingleFlight,
    tool_ctx: ToolContext,
    artifact_path: Callable[[dict[str, Any]], Path],
    run_elsewhere: RemoteRunner | None = None,
    job_id: str = "",
) -> tuple[dict[str, Any], bool]:
    """The tool's run as a dict and whether it came from the cache; a success is cached."""
    key = cache_key(spec.name, spec.version, attachment["sha256"], args)
    with single_flight.lock(key):
        looked_up = time.perf_counter()
        cached = cache.get(key)
        if cached is not None:  # the step took as long as the lookup
            return {**cached, "duration_ms": (time.perf_counter() - looked_up) * 1000}, True
        if run_elsewhere is not None:
            remote = run_elsewhere(job_id, spec, dict(attachment), args, key)
            if remote is not None:  # the worker that ran it has cached a success itself
                return remote, False
        run = run_tool(spec, artifact_path(dict(attachment)), args, tool_ctx).model_dump(mode="json")
        if run["ok"]:
            cache.put(key, run)
        return run, False


def execute_step(ctx: GraphContext, job_id: str, step: PlanStep, attachment: Attachment) -> StepResult:
    """Run `step` on `attachment` and report it as a `StepResult` (errors are data)."""
    spec = ctx.registry.get(step["tool"])
    ctx.emit(job_id, Event.STEP_STARTED, {"step": step["id"], "tool": step["tool"], "file": step["file"],
                                          "round": step.get("round", 1)})
    run, cached = run_once(spec, attachment, step["args"], cache=ctx.cache, single_flight=ctx.single_flight,
                           tool_ctx=ctx.tool_ctx, artifact_path=ctx.artifact_path,
                           run_elsewhere=ctx.run_elsewhere, job_id=job_id)
    summary, found = run["summary"], run["result"]
    floor = ctx.policy()[0].ocr_line_min_confidence
    if floor is not None and found:  # the policy's OCR line threshold: lines below it are not evidence
        found, unread = drop_unread_lines(found, floor)
        if unread:
            summary = f"{summary} ({unread} line(s) below {floor:.2f} confidence count as unread)"
    result = StepResult(
        step=step["id"], tool=step["tool"], produces=spec.produces.value, file=step["file"], ok=run["ok"],
        summary=summary, confidence=run["confidence"], result=found, error=run["error"],
        error_kind=run["error_kind"], duration_ms=run["duration_ms"], cached=cached,
    )
    ctx.emit(job_id, Event.STEP_FINISHED, {
        "step": result["step"], "tool": result["tool"], "produces": result["produces"], "ok": result["ok"],
        "summary": result["summary"], "error": result["error"], "duration_ms": result["duration_ms"],
        "cached": result["cached"]})
    return result
