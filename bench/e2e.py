"""End to end: one `jimoku ask` job in-process vs the same model and tool calls in a plain script.

jimoku: `app.engine.Engine` with a fresh data folder, `submit` + `run` to
awaiting_review (plan, OCR through the runner, draft, check, review checkpoint, every
node checkpointed in SQLite). Direct: `bench.direct.job` on the very same llama.cpp
contexts jimoku uses (its "plan" and "draft" contexts), the OCR function called in the
same thread, then the draft: the same prompts and tokens, so the difference is jimoku's
orchestration. The graph, SQLite and OCR code paths are warmed by one job with a
scripted LLM, the contexts by one direct job. Each repetition uses new nameplates (one
per side, file names of equal length), so the result cache never hides tool time, and
each side finds in the KV cache what the other left (the previous job's prompts).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.engine import Engine
from app.settings import Settings
from bench import direct, planner
from bench.inputs import QUESTION, Inputs
from bench.report import Row, Section
from graphs.llm import ChatModel, CompletionStats, LlamaChatModel
from graphs.testing import ScriptedChatModel
from tools.context import ToolContext
from tools.registry import Registry

TARGET = 1.05


class TimedModel:
    """A ChatModel wrapper that records the wall time of each completion."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner, self.name = inner, inner.name
        self.seconds: list[float] = []
        self.tokens: list[tuple[int, int]] = []

    @property
    def last(self) -> CompletionStats:
        return self.inner.last

    def complete(self, messages: Sequence[dict[str, str]], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512, purpose: str = "default") -> str:
        started = time.perf_counter()
        try:
            return self.inner.complete(messages, schema=schema, max_tokens=max_tokens, purpose=purpose)
        finally:
            self.seconds.append(time.perf_counter() - started)
            self.tokens.append((self.inner.last.prompt_tokens, self.inner.last.completion_tokens))


def _engine_job(engine: Engine, timed: TimedModel, image: Path) -> dict[str, Any]:
    before = len(timed.seconds)
    started = time.perf_counter()
    job = engine.submit(QUESTION, [(image, image.name)])
    job = engine.run(job.id)
    wall = time.perf_counter() - started
    if job.status != "awaiting_review":
        raise RuntimeError(f"the e2e job ended {job.status}: {job.error}")
    steps = engine.state(job.id)["steps"]
    calls = timed.seconds[before:]
    llm_s = sum(calls)
    tools_s = sum(s["duration_ms"] for s in steps) / 1000
    return {"wall_s": wall, "llm_s": llm_s, "plan_s": calls[0], "draft_s": calls[-1], "tools_s": tools_s,
            "rest_s": wall - llm_s - tools_s, "steps": len(steps), "tokens": timed.tokens[before:]}


def _warm_up(inputs: Inputs, data_dir: Path) -> None:
    """One job through a throw-away Engine with a scripted LLM: warms the graph, SQLite and
    OCR code paths without spending a minute of LLM time (the planner stage warmed the LLM)."""
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "The serial number is AX-0001-B.", "citations": ["s1"], "answerable": True}
    engine = Engine(Settings(data_dir=data_dir), llm=ScriptedChatModel([plan, draft]))
    image = inputs.plate("warm")
    engine.run(engine.submit(QUESTION, [(image, image.name)]).id)


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def measure(model: LlamaChatModel, inputs: Inputs, registry: Registry, ctx: ToolContext, data_dir: Path, *,
            reps: int) -> Section:
    """One warm-up job, then `reps` alternating pairs (jimoku, direct)."""
    timed = TimedModel(model)
    engine = Engine(Settings(data_dir=data_dir), llm=timed)  # type: ignore[arg-type]
    plan_ctx, draft_ctx = planner.context(model, "plan"), planner.context(model, "draft")
    _warm_up(inputs, data_dir.with_name(data_dir.name + "-warm-up"))
    direct.job(plan_ctx, draft_ctx, QUESTION, inputs.plate("w00"), registry, ctx)  # both contexts hold a job's prompts

    def run(side: str, i: int) -> dict[str, Any]:
        image = inputs.plate(f"{side}{i:02d}")
        if side == "a":
            return _engine_job(engine, timed, image)
        return direct.job(plan_ctx, draft_ctx, QUESTION, image, registry, ctx)

    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for i in range(reps):
        for side in (("a", "b") if i % 2 == 0 else ("b", "a")):
            runs[side].append(run(side, i))
    a, b = runs["a"], runs["b"]
    r = round(_med(a, "wall_s") / _med(b, "wall_s"), 3)
    section = Section("end to end", raw=runs)
    section.rows += [
        Row("end to end", f"one job, plan + OCR + draft: wall, median of {reps}", f"{_med(a, 'wall_s'):.2f} s",
            f"{_med(b, 'wall_s'):.2f} s", r, f"≤ {TARGET:.2f}", r <= TARGET),
        Row("end to end", "split: plan LLM / tools / draft LLM / rest, medians",
            f"{_med(a, 'plan_s'):.2f} / {_med(a, 'tools_s'):.2f} / {_med(a, 'draft_s'):.2f} / {_med(a, 'rest_s'):.2f} s",
            f"{_med(b, 'plan_s'):.2f} / {_med(b, 'tools_s'):.2f} / {_med(b, 'draft_s'):.2f} / 0 s"),
        Row("end to end", "tokens (prompt, completion) of plan and draft, first repetition",
            str(a[0]["tokens"]), str(b[0]["tokens"])),
    ]
    return section
