"""Throughput: N clients each submitting small jobs for a fixed time against the service.

Each client loops: submit a one-nameplate job (its own plate, so the cache never hides
the OCR), poll `GET /v1/jobs/{id}` every `poll_s` until the job waits for review, then
submit the next. Jobs per minute count jobs that reached `awaiting_review` inside the
window; clients stop submitting at the end of the window and wait (bounded) for the job
they have in flight, whose latency is still recorded. Every non-2xx answer, exception or
failed job is an error. Every loop is bounded by count and by time; traffic goes to
127.0.0.1 only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.cache import submit
from bench.inputs import QUESTION, Inputs
from bench.machine import process_memory_mb
from bench.report import Row, Section
from bench.stats import fmt_ms, summary_ms
from tests.fixtures.server import Server

GET_TARGET_MS = 50.0
MAX_JOBS_PER_CLIENT = 200


@dataclass
class Tally:
    """What all clients of one level saw (appends are atomic under the GIL)."""

    done_in_window: int = 0
    job_latency_s: list[float] = field(default_factory=list)
    get_latency_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unfinished: int = 0


def _client(server: Server, inputs: Inputs, tag: str, window_end: float, drain_end: float,
            poll_s: float, tally: Tally) -> None:
    client = server.client("submitter")
    for n in range(MAX_JOBS_PER_CLIENT):
        if time.monotonic() >= window_end:
            return
        plate = inputs.plate(f"{tag}-{n}")
        started = time.monotonic()
        try:
            job_id = submit(client, QUESTION, plate)
        except Exception as exc:  # counted, never hidden
            tally.errors.append(f"submit: {type(exc).__name__}: {exc}")
            continue
        while True:
            if time.monotonic() >= drain_end:
                tally.unfinished += 1
                return
            t0 = time.monotonic()
            try:
                response = client.get(f"/v1/jobs/{job_id}")
                tally.get_latency_s.append(time.monotonic() - t0)
                response.raise_for_status()
                status = response.json()["status"]
            except Exception as exc:
                tally.errors.append(f"get: {type(exc).__name__}: {exc}")
                break
            if status == "awaiting_review":
                now = time.monotonic()
                tally.job_latency_s.append(now - started)
                tally.done_in_window += now <= window_end
                break
            if status not in ("queued", "running"):
                tally.errors.append(f"job {job_id} ended {status}")
                break
            time.sleep(poll_s)


def _wait_idle(server: Server, timeout_s: float) -> bool:
    """Wait (bounded) until no job is queued or running, so levels do not overlap."""
    client = server.client("submitter")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = sum(client.get("/v1/jobs", params={"status": s, "limit": 1}).json()["count"] for s in ("queued", "running"))
        if busy == 0:
            return True
        time.sleep(1)
    return False


def run_level(server: Server, inputs: Inputs, clients: int, window_s: float, drain_s: float,
              poll_s: float) -> dict[str, Any]:
    """One load level; its tally and the server's memory afterwards."""
    tally = Tally()
    start = time.monotonic()
    window_end, drain_end = start + window_s, start + window_s + drain_s
    threads = [threading.Thread(target=_client, args=(server, inputs, f"c{clients}-{i}", window_end, drain_end,
                                                      poll_s, tally), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, drain_end - time.monotonic() + 30))
    idle = _wait_idle(server, drain_s)
    return {
        "clients": clients, "window_s": window_s, "poll_s": poll_s,
        "jobs_in_window": tally.done_in_window, "jobs_per_minute": round(tally.done_in_window * 60 / window_s, 1),
        "job_latency": summary_ms(tally.job_latency_s), "get_latency": summary_ms(tally.get_latency_s),
        "errors": tally.errors, "unfinished": tally.unfinished, "idle_after": idle,
        "memory_mb": process_memory_mb(server.proc.pid), "elapsed_s": round(time.monotonic() - start, 1),
    }


def measure(server: Server, inputs: Inputs, *, levels: tuple[int, ...], window_s: float, drain_s: float,
            poll_s: float = 0.5) -> Section:
    """Every load level in turn; one row per level, then peak memory."""
    section = Section("throughput", notes=[
        f"each job: one new nameplate + '{QUESTION}' (plan, OCR, draft, check, stop at review); "
        f"window {window_s:.0f} s per level, polling every {poll_s} s; the service runs 2 workers "
        "and one planner (llama.cpp calls are serialised)"])
    for clients in levels:
        level = run_level(server, inputs, clients, window_s, drain_s, poll_s)
        section.raw[f"clients_{clients}"] = level
        job, get = level["job_latency"], level["get_latency"]
        errors = len(level["errors"])
        who = f"load {clients} client{'s' * (clients > 1)}"
        unfinished = f", {level['unfinished']} unfinished" if level["unfinished"] else ""
        section.rows += [
            Row(who, "jobs/min to awaiting_review; job latency p50 / p95; errors",
                f"{level['jobs_per_minute']:.1f}/min; {fmt_ms(job['median_ms'])} / {fmt_ms(job['p95_ms'])}; {errors} errors",
                f"{level['jobs_in_window']} jobs in {window_s:.0f} s{unfinished}", None, "0 errors", errors == 0),
            Row(who, f"GET /v1/jobs/{{id}} latency p50 / p95 (n={get['n']})",
                f"{fmt_ms(get['median_ms'])} / {fmt_ms(get['p95_ms'])}", "", None, f"p95 ≤ {GET_TARGET_MS:.0f} ms",
                get["p95_ms"] is not None and get["p95_ms"] <= GET_TARGET_MS),
        ]
    memory = process_memory_mb(server.proc.pid)
    section.raw["memory_mb"] = memory
    section.rows.append(Row("server memory", "peak RSS (VmHWM) after all levels; RSS now",
                            f"{memory.get('VmHWM', 0):,.0f} MB; {memory.get('VmRSS', 0):,.0f} MB"))
    return section
