"""`python -m bench [--quick] [--out bench/results]`: measure jimoku, write JSON + Markdown.

Stages, in the order they run: the service (cold start, per-tool latency, cache,
throughput), a fresh `jimoku ask` beside a warm one, then in-process (parallel steps,
planner, end to end). The service is
stopped before the in-process stages so the two never compete for the two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before llama_cpp loads, as graphs.llm does
# Start llama.cpp's and torch's OpenMP runtimes first, as a plain script would: they read
# OMP_THREAD_LIMIT once, when they load, and a tool module setting it at import (as
# tools/ocr.py once did, for Tesseract) would cap the "direct" baselines too.
import llama_cpp  # noqa: F401
import torch  # noqa: F401

from app.settings import Settings
from app.tooling import load_registry
from bench import (
    cache,
    coldask,
    coldstart,
    concurrency,
    e2e,
    machine,
    planner,
    report,
    scale,
    threads,
    throughput,
    tools,
)
from bench.inputs import Inputs
from bench.report import Row, Section
from graphs.llm import LlamaConfig
from graphs.planner import plan_messages
from tools import models
from tools.context import ToolContext
from tools.registry import Registry


@dataclass(frozen=True)
class Mode:
    """How much of everything to do."""

    name: str
    tool_reps: int
    levels: tuple[int, ...]
    window_s: float
    drain_s: float
    concurrency_reps: int
    planner_cold_reps: int
    planner_warm_reps: int
    after_draft: bool
    e2e_reps: int
    thread_tokens: int
    thread_pairs: int
    detect_default_threads: bool
    balanced_plan: bool
    scale_jobs: int
    """Jobs per worker count in the scale-out stage (0: skipped)."""


FULL = Mode("full", tool_reps=10, levels=(1, 4, 16), window_s=45, drain_s=150, concurrency_reps=3,
            planner_cold_reps=2, planner_warm_reps=4, after_draft=True, e2e_reps=4,
            thread_tokens=512, thread_pairs=2, detect_default_threads=True, balanced_plan=True, scale_jobs=24)
QUICK = Mode("quick", tool_reps=2, levels=(1, 4), window_s=10, drain_s=60, concurrency_reps=1,
             planner_cold_reps=1, planner_warm_reps=1, after_draft=False, e2e_reps=1,
             thread_tokens=0, thread_pairs=0, detect_default_threads=False, balanced_plan=False, scale_jobs=0)
ORDER = ["tools", "end to end", "concurrency", "cache", "planner", "service threads", "threads", "throughput",
         "cold ask", "scale-out", "cold start"]


def _log(message: str, t0: float) -> None:
    print(f"[bench {time.perf_counter() - t0:6.0f} s] {message}", file=sys.stderr, flush=True)


def _stage(name: str, fn: Callable[[], Section], t0: float, sections: list[Section]) -> Section | None:
    """Run one stage; a failure becomes a row saying so (the other stages still run)."""
    _log(f"{name} ...", t0)
    try:
        section = fn()
    except Exception as exc:
        traceback.print_exc()
        section = Section(name, rows=[Row(name, "stage failed", f"{type(exc).__name__}: {exc}", met=False)])
    sections.append(section)
    return section


def planner_config(settings: Settings) -> LlamaConfig:
    """The planner configuration `app.engine.Engine.llm` builds from settings."""
    return LlamaConfig(path=settings.planner_model or models.ensure("planner", settings.model_dir),
                       chat_format=settings.planner_chat_format, n_ctx=settings.planner_context,
                       n_threads=settings.planner_threads)


def _plan_prompt(registry: Registry, ctx: ToolContext) -> str:
    files = [{"id": "f1", "name": "plate.png", "kind": "image", "sha256": "", "path": ""}]
    messages = plan_messages("What is the serial number on this plate?", files, list(registry), ctx)  # type: ignore[arg-type]
    return "\n".join(m["content"] for m in messages)


def run(mode: Mode, t0: float) -> list[Section]:
    """Every stage of `mode`; the sections they produced."""
    settings = Settings()
    registry = load_registry(settings)
    ctx = settings.tool_context()
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="jimoku-bench-") as tmp_name:
        tmp = Path(tmp_name)
        inputs = Inputs(tmp / "inputs")
        _log("starting the service (cold start)", t0)
        server, cold = coldstart.start(tmp / "service")
        sections.append(cold)
        try:
            _stage("tools", lambda: tools.measure(server, inputs, ctx, reps=mode.tool_reps,
                                                  detect_default_threads=mode.detect_default_threads), t0, sections)
            _stage("cache", lambda: cache.measure(server, inputs), t0, sections)
            _stage("service threads", lambda: threads.service_check(server, inputs), t0, sections)
            _stage("throughput", lambda: throughput.measure(server, inputs, levels=mode.levels, window_s=mode.window_s,
                                                            drain_s=mode.drain_s), t0, sections)
        finally:
            coldstart.stop(server)
        _stage("cold ask", lambda: coldask.measure(inputs, tmp / "coldask"), t0, sections)
        _stage("concurrency", lambda: concurrency.measure(inputs, registry, ctx, reps=mode.concurrency_reps,
                                                              balanced=mode.balanced_plan), t0, sections)
        if mode.thread_pairs:
            _stage("threads", lambda: threads.measure(_plan_prompt(registry, ctx), tmp, tokens=mode.thread_tokens,
                                                      memo=inputs.memo, pairs=mode.thread_pairs), t0, sections)
        _log("loading the planner", t0)
        model = planner.load(planner_config(settings))
        _stage("planner", lambda model=model: planner.measure(model, registry, ctx, cold_reps=mode.planner_cold_reps,
                                                  warm_reps=mode.planner_warm_reps,
                                                  after_draft=mode.after_draft),
               t0, sections)
        _stage("end to end", lambda model=model: e2e.measure(model, inputs, registry, ctx, tmp / "engine", reps=mode.e2e_reps),
               t0, sections)
        del model  # the workers of the scale-out stage load their own
        if mode.scale_jobs:
            _stage("scale-out", lambda: scale.measure(inputs, tmp / "scale", jobs=mode.scale_jobs), t0, sections)
    return sorted(sections, key=lambda s: ORDER.index(s.name) if s.name in ORDER else len(ORDER))


def document(sections: list[Section], mode: str, config: dict[str, object], started_at: datetime, t0: float,
             monitor: machine.LoadMonitor) -> dict[str, object]:
    """The results document: when, which mode, how long, on what machine under what load."""
    return report.document(sections, {
        "started_at": started_at.isoformat(timespec="seconds"), "mode": mode, "config": config,
        "wall_s": round(time.perf_counter() - t0, 1), "machine": machine.describe(), "load": monitor.stop(),
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 1 and 4 clients, shorter windows")
    parser.add_argument("--out", type=Path, default=Path("bench/results"), help="folder for <date>.json and <date>.md")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    started_at = datetime.now().astimezone()
    t0 = time.perf_counter()
    monitor = machine.LoadMonitor()
    monitor.start()
    sections = run(mode, t0)
    doc = document(sections, mode.name, asdict(mode), started_at, t0, monitor)
    stem = started_at.strftime("%Y-%m-%d") + ("-quick" if args.quick else "")
    json_path, md_path = report.write(doc, args.out, stem)
    print(report.markdown(doc))
    _log(f"wrote {json_path} and {md_path}", t0)
    failed = [r for s in sections for r in s.rows if r.measure == "stage failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
