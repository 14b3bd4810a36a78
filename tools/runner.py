"""Run one tool call with its timeout and concurrency limit; errors become data.

Tools share two cores. Each tool has a semaphore of `max_concurrency` slots, and a slot
is held until the call really ends: a call abandoned at its timeout keeps its slot
while its thread still runs, so a hung tool cannot pile up more threads on the CPU.
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tools.context import ToolContext
from tools.errors import ModelNotAvailableError, ToolInputError, ToolTimeoutError
from tools.registry import ToolSpec

ErrorKind = Literal["input", "unavailable", "timeout", "busy", "crash"]


class ToolRun(BaseModel):
    """The outcome of one call: a result or an error, never an exception."""

    tool: str
    version: str
    ok: bool
    result: dict[str, Any] | None = None
    summary: str = ""
    confidence: float | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    duration_ms: float = 0.0


_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(spec: ToolSpec) -> threading.BoundedSemaphore:
    with _slots_lock:
        sem = _slots.get(spec.name)
        if sem is None:
            sem = _slots[spec.name] = threading.BoundedSemaphore(spec.max_concurrency)
        return sem


def run_tool(
    spec: ToolSpec,
    file: Path,
    args: dict[str, Any] | None,
    ctx: ToolContext,
    *,
    timeout: float | None = None,
) -> ToolRun:
    """Call `spec` on `file`; returns a `ToolRun`, whatever the tool does."""
    limit = timeout if timeout is not None else spec.timeout
    started = time.perf_counter()

    def failed(kind: ErrorKind, message: str) -> ToolRun:
        return ToolRun(
            tool=spec.name,
            version=spec.version,
            ok=False,
            error=message,
            error_kind=kind,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    try:
        spec.validate_args(args)
    except ToolInputError as exc:
        return failed("input", str(exc))

    sem = _slot(spec)
    if not sem.acquire(timeout=limit):
        return failed("busy", f"tool {spec.name!r} is still busy with earlier calls; try again later")

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = spec.invoke(file, args, ctx)
        except BaseException as exc:  # reported as data below
            outcome["error"] = exc
            outcome["trace"] = traceback.format_exc(limit=5)
        finally:
            sem.release()

    worker = threading.Thread(target=target, name=f"tool-{spec.name}", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        return failed("timeout", f"tool {spec.name!r} did not finish within {limit:g} s and was abandoned")
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, ToolInputError):
            return failed("input", str(error))
        if isinstance(error, ToolTimeoutError):
            return failed("timeout", str(error))
        if isinstance(error, ModelNotAvailableError):
            return failed("unavailable", str(error))
        return failed("crash", f"tool {spec.name!r} failed: {type(error).__name__}: {error}")
    result = outcome["result"]
    return ToolRun(
        tool=spec.name,
        version=spec.version,
        ok=True,
        result=result.model_dump(mode="json"),
        summary=result.summary,
        confidence=result.confidence,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
