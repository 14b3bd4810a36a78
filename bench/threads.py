"""Threads: does llama.cpp (and torch) get its 2 threads, in the service and in general?

OpenMP runtimes (llama.cpp's libgomp, torch's) read `OMP_THREAD_LIMIT` once, when they
load. Until the fix in tools/ocr.py (Tesseract's limit now set only for its child process
through tools/bin/tesseract-one-thread), `os.environ.setdefault("OMP_THREAD_LIMIT", "1")`
ran at registry load and every model in the service ran on one thread.
- `service_check`: per-thread CPU time of the running service during one job: how many
  threads shared the work (Tesseract runs in a child process and is not counted).
- `measure`: the same llama.cpp prompt eval (and Whisper, full run) in child processes
  with and without `OMP_THREAD_LIMIT=1`: what the limit costs. Children alternate.

Child mode: `python -m bench.threads PROMPT_FILE TOKENS [MEMO]` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.cache import submit, wait
from bench.inputs import QUESTION, Inputs
from bench.report import Row, Section
from tests.fixtures.server import Server


def _thread_ticks(pid: int | str = "self") -> dict[str, int]:
    """CPU ticks (user + system) of each thread of a process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        out[tid] = int(fields[11]) + int(fields[12])
    return out


def _busy_threads(before: dict[str, int], after: dict[str, int]) -> int:
    """Threads that did at least a fifth of the busiest one's work."""
    return len(_shares(before, after))


def _shares(before: dict[str, int], after: dict[str, int]) -> list[float]:
    """CPU seconds of the threads that did at least a fifth of the busiest one's work."""
    used = sorted((after[t] - before.get(t, 0) for t in after), reverse=True)
    top = used[0] if used else 0
    hz = os.sysconf("SC_CLK_TCK")
    return [u / hz for u in used if top and u >= top / 5]


def service_check(server: Server, inputs: Inputs) -> Section:
    """One warm job on the service; how many of its threads did the work."""
    client = server.client("submitter")
    before = _thread_ticks(server.proc.pid)
    started = time.perf_counter()
    doc = wait(client, submit(client, QUESTION, inputs.plate("threads")))
    wall = time.perf_counter() - started
    shares = _shares(before, _thread_ticks(server.proc.pid))
    section = Section("service threads", raw={"cpu_s_per_busy_thread": shares, "job_wall_s": wall,
                                              "status": doc["status"]})
    section.rows.append(Row("service threads", "threads sharing the CPU work of one job (planner configured for 2)",
                            f"{len(shares)}: " + ", ".join(f"{c:.1f} s CPU" for c in shares), f"job wall {wall:.1f} s"))
    return section


def child(prompt_file: Path, tokens: int, memo: Path | None) -> dict[str, Any]:
    """Time llama.cpp prompt eval (and Whisper) in this process, as its environment says."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from llama_cpp import Llama

    from app.settings import Settings
    from tools import models

    settings = Settings()
    llm = Llama(model_path=str(models.ensure("planner", settings.model_dir)), n_ctx=2048,
                n_threads=settings.planner_threads, n_threads_batch=settings.planner_threads, verbose=False)
    ids = llm.tokenize(prompt_file.read_text().encode())[:tokens]
    before = _thread_ticks()
    started = time.perf_counter()
    llm.eval(ids)
    out: dict[str, Any] = {"omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT"), "tokens": len(ids),
                           "llama_s": time.perf_counter() - started, "llama_threads": _busy_threads(before, _thread_ticks())}
    if memo is not None:
        from bench.tools import direct_asr

        transcribe = direct_asr(memo, settings.tool_context())
        transcribe()  # warm-up
        before = _thread_ticks()
        started = time.perf_counter()
        transcribe()
        out.update(whisper_s=time.perf_counter() - started, whisper_threads=_busy_threads(before, _thread_ticks()))
    return out


def _spawn(limited: bool, prompt_file: Path, tokens: int, memo: Path | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    if limited:
        env["OMP_THREAD_LIMIT"] = "1"
    cmd = [sys.executable, "-m", "bench.threads", str(prompt_file), str(tokens)] + ([str(memo)] if memo else [])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(prompt: str, folder: Path, *, tokens: int, memo: Path | None, pairs: int) -> Section:
    """`pairs` × (limited, unlimited) children, order alternating."""
    prompt_file = folder / "plan-prompt.txt"
    prompt_file.write_text(prompt)
    runs: dict[str, list[dict[str, Any]]] = {"limited": [], "unlimited": []}
    for i in range(pairs):
        for limited in ((True, False) if i % 2 == 0 else (False, True)):
            runs["limited" if limited else "unlimited"].append(_spawn(limited, prompt_file, tokens, memo))
    lim, unl = runs["limited"], runs["unlimited"]
    section = Section("threads", raw=runs)

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    n = lim[0]["tokens"]
    section.rows.append(Row(
        "threads", f"llama.cpp prompt eval, {n} plan tokens: with OMP_THREAD_LIMIT=1 vs without",
        f"{med(lim, 'llama_s'):.2f} s, {n / med(lim, 'llama_s'):.0f} tok/s, {lim[0]['llama_threads']} thread(s)",
        f"{med(unl, 'llama_s'):.2f} s, {n / med(unl, 'llama_s'):.0f} tok/s, {unl[0]['llama_threads']} thread(s)",
        round(med(lim, "llama_s") / med(unl, "llama_s"), 3)))
    if memo is not None:
        section.rows.append(Row(
            "threads", "Whisper transcribe of the memo: with OMP_THREAD_LIMIT=1 vs without",
            f"{med(lim, 'whisper_s'):.2f} s, {lim[0]['whisper_threads']} thread(s)",
            f"{med(unl, 'whisper_s'):.2f} s, {unl[0]['whisper_threads']} thread(s)",
            round(med(lim, "whisper_s") / med(unl, "whisper_s"), 3)))
    return section


if __name__ == "__main__":
    memo_arg = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    print(json.dumps(child(Path(sys.argv[1]), int(sys.argv[2]), memo_arg)))
