"""Concurrency: the execute node on plans of 3 independent steps over 3 files.

Driven through `graphs.nodes.execute` with a `GraphContext` (no LLM: the plan is
given); each run gets a fresh in-memory cache so every step does its work. Two plans:
- mixed: OCR on a nameplate, detect on the people photo, ASR on the memo;
- 3 × OCR on three different nameplates (Tesseract is single-threaded; OCR has 2 slots).
Each plan also runs with `max_parallel_steps=1`; runs alternate parallel/sequential.
Speed-up is sequential wall / parallel wall. "Sum of steps / wall" is shown too, but
step times measured while sharing two cores are inflated, so that figure flatters. The best
possible speed-up follows from the steps' times alone, 2 cores and each tool's slots.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from bench.inputs import Inputs, sha256
from bench.report import Row, Section
from graphs.cache import MemoryResultCache
from graphs.context import GraphContext
from graphs.nodes import execute
from graphs.testing import ScriptedChatModel
from tools.context import ToolContext
from tools.registry import Registry

TARGET = 1.6
CORES = 2


def _state(steps: list[tuple[str, Path, str]]) -> dict[str, Any]:
    """A state with one file per step: (tool, file, kind)."""
    return {
        "job_id": "bench-concurrency",
        "files": [{"id": f"f{i}", "name": p.name, "kind": kind, "sha256": sha256(p), "path": str(p)}
                  for i, (_, p, kind) in enumerate(steps, start=1)],
        "plan": [{"id": f"s{i}", "tool": tool, "file": f"f{i}", "args": {}, "after": [], "origin": "planner"}
                 for i, (tool, _, _) in enumerate(steps, start=1)],
    }


def _run(state: dict[str, Any], registry: Registry, ctx: ToolContext, parallel: int) -> tuple[float, list[dict]]:
    context = GraphContext(llm=ScriptedChatModel([]), registry=registry, tool_ctx=ctx,
                           cache=MemoryResultCache(), max_parallel_steps=parallel,
                           artifact_path=lambda a: Path(a["path"]))  # this benchmark's own file list
    started = time.perf_counter()
    steps = execute(state, Runtime(context=context))["steps"]  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    failed = [s for s in steps if not s["ok"]]
    if failed:
        raise RuntimeError(f"a step failed: {failed[0]['tool']}: {failed[0]['error']}")
    return wall, steps


def _bound(alone: list[float], tools: list[str], registry: Registry, cores: int = CORES) -> float:
    """Best possible speed-up: steps are indivisible, at most `cores` run at once and each
    tool at most its own slots at once; a longest-first schedule gives the shortest wall."""
    lanes = [0.0] * cores
    running: dict[str, list[float]] = {}
    for seconds, tool in sorted(zip(alone, tools, strict=True), reverse=True):
        slots = running.setdefault(tool, [0.0] * registry.get(tool).max_concurrency)
        lane, slot = lanes.index(min(lanes)), slots.index(min(slots))
        start = max(lanes[lane], slots[slot])
        lanes[lane] = slots[slot] = start + seconds
    return sum(alone) / max(lanes)


def _scenario(name: str, state: dict[str, Any], registry: Registry, ctx: ToolContext, reps: int,
              section: Section) -> None:
    _run(state, registry, ctx, 3)  # loads and warms the models
    par, seq, sums, alone = [], [], [], []
    for i in range(reps):
        for parallel in ((3, 1) if i % 2 == 0 else (1, 3)):
            wall, steps = _run(state, registry, ctx, parallel)
            (par if parallel > 1 else seq).append(wall)
            (sums if parallel > 1 else alone).append([s["duration_ms"] / 1000 for s in steps])
    par_s, seq_s = statistics.median(par), statistics.median(seq)
    step_sum = statistics.median(sum(d) for d in sums)
    alone_med = [statistics.median(d[k] for d in alone) for k in range(len(alone[0]))]
    tools = [s["tool"] for s in state["plan"]]
    bound = _bound(alone_med, tools, registry)
    speedup = seq_s / par_s
    section.raw[name] = {"parallel_s": par, "sequential_s": seq, "steps_parallel_s": sums,
                         "steps_sequential_s": alone, "ideal_bound": bound, "tools": tools}
    section.rows += [
        Row(f"parallel steps, {name}", f"execute node wall, median of {reps}: parallel vs one at a time",
            f"{par_s:.2f} s", f"{seq_s:.2f} s", round(speedup, 3), f"speed-up ≥ {TARGET}×", speedup >= TARGET),
        Row(f"parallel steps, {name}", "sum of step times (parallel run) / wall; best possible speed-up",
            f"{step_sum / par_s:.2f}×; bound {bound:.2f}×",
            "steps alone: " + ", ".join(f"{t} {s:.2f} s" for t, s in zip(tools, alone_med, strict=True))),
    ]


def measure(inputs: Inputs, registry: Registry, ctx: ToolContext, *, reps: int, balanced: bool = True) -> Section:
    """The mixed plan, and the 3 × OCR plan when `balanced`; two rows each."""
    section = Section("concurrency", notes=[
        "run in the benchmark process, where torch has the configured 2 threads (ctx.torch_threads), so "
        "detect and ASR side by side oversubscribe the 2 cores; only single-threaded work (Tesseract, "
        "ffmpeg, Python) can overlap"])
    mixed = _state([("ocr", inputs.nameplate, "image"), ("detect", inputs.people, "image"),
                    ("asr", inputs.memo, "audio")])
    _scenario("ocr+detect+asr", mixed, registry, ctx, reps, section)
    if not balanced:
        return section
    plates = _state([("ocr", inputs.plate(f"par{i}"), "image") for i in range(3)])
    _scenario("3 × ocr", plates, registry, ctx, reps, section)
    return section
