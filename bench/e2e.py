"""End to end: one `jimoku ask` job in-process vs the same model and tool calls in a plain script.

jimoku: `app.engine.Engine` with a fresh data folder, `submit` + `run` to
awaiting_review (plan, OCR through the runner, draft, check, review checkpoint, every
node checkpointed in SQLite). Direct: `bench.direct.job` on the same `llama_cpp.Llama`
object (same weights, threads and RAM cache, so the same prompts cost the same; the
cache and KV state are reset to the same snapshot before every job), the OCR
function called in the same thread, then the draft. The LLM is warm from the planner
stage; the graph, SQLite and OCR paths are warmed by one job with a scripted LLM. Each
repetition uses new nameplates (one per side, file names of equal length), so the
result cache never hides tool time. The full run adds a third variant: the plain script
with plans and drafts on two separate llama.cpp contexts and no RAM cache (prefix reuse
without state copies).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.engine import Engine
from app.settings import Settings
from bench import direct
from bench.inputs import QUESTION, Inputs
from bench.report import Row, Section
from graphs.llm import ChatModel, CompletionStats, LlamaChatModel, ScriptedChatModel
from tools.context import ToolContext
from tools.registry import Registry

TARGET = 1.05


class TimedModel:
    """A ChatModel wrapper that records the wall time of each completion."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner, self.name, self.seconds = inner, inner.name, []

    @property
    def last(self) -> CompletionStats:
        return self.inner.last

    def complete(self, messages: Sequence[dict[str, str]], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512) -> str:
        started = time.perf_counter()
        try:
            return self.inner.complete(messages, schema=schema, max_tokens=max_tokens)
        finally:
            self.seconds.append(time.perf_counter() - started)


def _engine_job(engine: Engine, timed: TimedModel, image: Path) -> dict[str, float]:
    before = len(timed.seconds)
    started = time.perf_counter()
    job = engine.submit(QUESTION, [(image, image.name)])
    job = engine.run(job.id)
    wall = time.perf_counter() - started
    if job.status != "awaiting_review":
        raise RuntimeError(f"the e2e job ended {job.status}: {job.error}")
    steps = engine.state(job.id)["steps"]
    llm_s = sum(timed.seconds[before:])
    tools_s = sum(s["duration_ms"] for s in steps) / 1000
    return {"wall_s": wall, "llm_s": llm_s, "tools_s": tools_s, "rest_s": wall - llm_s - tools_s, "steps": len(steps)}


def _warm_up(inputs: Inputs, data_dir: Path) -> None:
    """One job through a throw-away Engine with a scripted LLM: warms the graph, SQLite and
    OCR code paths without spending a minute of LLM time (the planner stage warmed the LLM)."""
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "The serial number is AX-0001-B.", "citations": ["s1"], "answerable": True}
    engine = Engine(Settings(data_dir=data_dir), llm=ScriptedChatModel([plan, draft]))
    image = inputs.plate("warm")
    engine.run(engine.submit(QUESTION, [(image, image.name)]).id)


def _med(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _snapshot(llama: Any) -> tuple[list[tuple[Any, Any]], Any]:
    """The RAM cache's entries and the live KV state, as a finished job leaves them."""
    return list(llama.cache.cache_state.items()), llama.save_state()


def _restore(llama: Any, snapshot: tuple[list[tuple[Any, Any]], Any]) -> None:
    """Put the RAM cache and the KV state back, so every measured job starts alike."""
    from llama_cpp import LlamaRAMCache

    entries, live = snapshot
    cache = LlamaRAMCache(capacity_bytes=llama.cache.capacity_bytes)
    cache.cache_state.update(entries)
    llama.set_cache(cache)
    llama.load_state(live)


def measure(model: LlamaChatModel, inputs: Inputs, registry: Registry, ctx: ToolContext, data_dir: Path, *,
            reps: int, two_contexts: bool) -> Section:
    """`reps` alternating pairs (jimoku, direct), then the 2-context variant when asked.

    Before each measured job the model's RAM cache and KV state are restored to what one
    warm-up job left, so neither side profits from the other's cached prompts.
    """
    timed = TimedModel(model)
    engine = Engine(Settings(data_dir=data_dir), llm=timed)  # type: ignore[arg-type]
    llama = model._llm
    _warm_up(inputs, data_dir.with_name(data_dir.name + "-warm-up"))
    direct.job(llama, llama, QUESTION, inputs.plate("w00"), registry, ctx)
    snapshot = _snapshot(llama)
    contexts = None
    if two_contexts:
        config = model.config
        contexts = [direct.load_llama(config.path, n_ctx=config.n_ctx, n_threads=config.n_threads,
                                      chat_format=config.chat_format, seed=config.seed) for _ in range(2)]
        direct.job(*contexts, QUESTION, inputs.plate("w01"), registry, ctx)  # warms both contexts

    def run(side: str, i: int) -> dict[str, float]:
        image = inputs.plate(f"{side}{i:02d}")
        if side == "c":
            return direct.job(*contexts, QUESTION, image, registry, ctx)  # type: ignore[misc]
        _restore(llama, snapshot)
        if side == "a":
            return _engine_job(engine, timed, image)
        return direct.job(llama, llama, QUESTION, image, registry, ctx)

    sides = ("a", "b", "c") if two_contexts else ("a", "b")
    runs: dict[str, list[dict[str, float]]] = {s: [] for s in sides}
    for i in range(reps):
        order = ("a", "b") if i % 2 == 0 else ("b", "a")
        for side in order + sides[2:]:
            runs[side].append(run(side, i))
    a, b = runs["a"], runs["b"]
    r = round(_med(a, "wall_s") / _med(b, "wall_s"), 3)
    section = Section("end to end", raw=runs)
    section.rows += [
        Row("end to end", f"one job, plan + OCR + draft: wall, median of {reps}", f"{_med(a, 'wall_s'):.2f} s",
            f"{_med(b, 'wall_s'):.2f} s", r, f"≤ {TARGET:.2f}", r <= TARGET),
        Row("end to end", "split: LLM / tools / rest",
            f"{_med(a, 'llm_s'):.2f} / {_med(a, 'tools_s'):.2f} / {_med(a, 'rest_s'):.2f} s",
            f"{_med(b, 'plan_s') + _med(b, 'draft_s'):.2f} / {_med(b, 'tools_s'):.2f} / 0 s"),
    ]
    if two_contexts:
        c = runs["c"]
        section.rows.append(Row("end to end", "vs a plain script with plan and draft on 2 contexts, no RAM cache",
                                f"{_med(a, 'wall_s'):.2f} s", f"{_med(c, 'wall_s'):.2f} s",
                                round(_med(a, "wall_s") / _med(c, "wall_s"), 3)))
    return section
