"""Concurrency: the execute node on a plan of 3 independent steps over 3 files.

OCR on a nameplate, detect on the people photo, ASR on the memo, driven through
`graphs.nodes.execute` with a `GraphContext` (no LLM: the plan is given). Each run gets
a fresh in-memory cache so every step does its work. The same plan also runs with
`max_parallel_steps=1`; runs alternate parallel/sequential. Speed-up is sequential wall
/ parallel wall; "sum of steps / wall" is shown too, but step times measured while
sharing two cores are inflated, so that figure flatters. The ideal bound is the sum of
the steps run alone divided by the longest one.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from langgraph.runtime import Runtime

from bench.inputs import Inputs, sha256
from bench.report import Row, Section
from graphs.cache import MemoryResultCache
from graphs.context import GraphContext
from graphs.llm import ScriptedChatModel
from graphs.nodes import execute
from tools.context import ToolContext
from tools.registry import Registry

TARGET = 1.6


def _state(inputs: Inputs) -> dict[str, Any]:
    files = [("f1", inputs.nameplate, "image", "ocr"), ("f2", inputs.people, "image", "detect"),
             ("f3", inputs.memo, "audio", "asr")]
    return {
        "job_id": "bench-concurrency",
        "files": [{"id": fid, "name": p.name, "kind": kind, "sha256": sha256(p), "path": str(p)}
                  for fid, p, kind, _ in files],
        "plan": [{"id": f"s{i}", "tool": tool, "file": fid, "args": {}, "after": [], "origin": "planner"}
                 for i, (fid, _, _, tool) in enumerate(files, start=1)],
    }


def _run(state: dict[str, Any], registry: Registry, ctx: ToolContext, parallel: int) -> tuple[float, list[dict]]:
    context = GraphContext(llm=ScriptedChatModel([]), registry=registry, tool_ctx=ctx,
                           cache=MemoryResultCache(), max_parallel_steps=parallel)
    started = time.perf_counter()
    steps = execute(state, Runtime(context=context))["steps"]  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    failed = [s for s in steps if not s["ok"]]
    if failed:
        raise RuntimeError(f"a step failed: {failed[0]['tool']}: {failed[0]['error']}")
    return wall, steps


def measure(inputs: Inputs, registry: Registry, ctx: ToolContext, *, reps: int) -> Section:
    """Parallel vs sequential execute-node wall, alternating; one warm-up run first."""
    state = _state(inputs)
    _run(state, registry, ctx, 3)  # loads and warms the three models
    par, seq, sums, alone = [], [], [], []
    for i in range(reps):
        for parallel in ((3, 1) if i % 2 == 0 else (1, 3)):
            wall, steps = _run(state, registry, ctx, parallel)
            (par if parallel > 1 else seq).append(wall)
            (sums if parallel > 1 else alone).append({s["tool"]: s["duration_ms"] / 1000 for s in steps})
    par_s, seq_s = statistics.median(par), statistics.median(seq)
    step_sum = statistics.median(sum(d.values()) for d in sums)
    alone_by_tool = {t: statistics.median(d[t] for d in alone) for t in alone[0]}
    bound = sum(alone_by_tool.values()) / max(alone_by_tool.values())
    speedup = seq_s / par_s
    section = Section("concurrency", raw={"parallel_s": par, "sequential_s": seq, "steps_parallel_s": sums,
                                           "steps_sequential_s": alone, "ideal_bound": bound})
    section.rows += [
        Row("parallel steps", f"execute node, 3 steps (ocr, detect, asr), median of {reps}",
            f"{par_s:.2f} s parallel", f"{seq_s:.2f} s one at a time", round(speedup, 3),
            f"speed-up ≥ {TARGET}×", speedup >= TARGET),
        Row("parallel steps", "sum of step times (parallel run) / wall", f"{step_sum / par_s:.2f}×",
            f"steps alone: " + ", ".join(f"{t} {s:.2f} s" for t, s in alone_by_tool.items())),
        Row("parallel steps", "ideal bound: steps alone summed / longest step", f"{bound:.2f}×"),
    ]
    return section
