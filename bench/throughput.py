"""Throughput: N clients each submitting small jobs for a fixed time against the service.

Two kinds of job, each at every level: the serial number of a plate (planned and answered
in code: OCR-bound) and an open question about it (planned and drafted by the LLM:
planner-bound). Each client loops: submit a one-nameplate job (its own plate, so the cache never hides
the OCR), poll `GET /v1/jobs/{id}` every `poll_s` until the job waits for review, then
submit the next. Clients stop submitting at the end of the window and wait (bounded) for
the job they have in flight. Jobs per minute = jobs that reached `awaiting_review` /
time from the level's start to the last of them (so a window shorter than one job's
latency still gives a rate; the tail, with fewer clients busy, makes it a little low). Every non-2xx answer, exception or
failed job is an error. Every loop is bounded by count and by time; traffic goes to
127.0.0.1 only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.cache import submit
from bench.inputs import OPEN_QUESTION, QUESTION, Inputs
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
    last_done: float = 0.0
    job_latency_s: list[float] = field(default_factory=list)
    get_latency_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unfinished: int = 0


def _client(server: Server, key: str, inputs: Inputs, question: str, tag: str, window_end: float,
            drain_end: float, poll_s: float, tally: Tally) -> None:
    client = server.client(key=key)
    for n in range(MAX_JOBS_PER_CLIENT):
        if time.monotonic() >= window_end:
            return
        plate = inputs.plate(f"{tag}-{n}")
        started = time.monotonic()
        try:
            job_id = submit(client, question, plate)
        except Exception as exc:  # counted, never hidden
            tally.errors.append(f"POST /v1/jobs: {type(exc).__name__}: {exc}")
            continue
        while True:
            if time.monotonic() >= drain_end:
                tally.unfinished += 1
                return
            t0 = time.monotonic()
            try:
                response = client.get(f"/v1/jobs/{job_id}")
                tally.get_latency_s.append(time.monotonic() - t0)
                if response.status_code != 200:
                    tally.errors.append(f"GET /v1/jobs/{job_id}: {response.status_code} {response.text[:300]}")
                    break
                status = response.json()["status"]
            except Exception as exc:
                tally.errors.append(f"GET /v1/jobs/{job_id}: {type(exc).__name__}: {exc}")
                break
            if status == "awaiting_review":
                now = time.monotonic()
                tally.job_latency_s.append(now - started)
                tally.done_in_window += now <= window_end
                tally.last_done = max(tally.last_done, now)
                break
            if status not in ("queued", "running"):
                tally.errors.append(f"job {job_id} ended {status}")
                break
            time.sleep(poll_s)


def _wait_idle(server: Server, timeout_s: float, errors: list[str]) -> bool:
    """Wait (bounded) until no job is queued or running, so levels do not overlap."""
    client = server.client("submitter")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = 0
        for status in ("queued", "running"):
            response = client.get("/v1/jobs", params={"status": status, "limit": 1})
            if response.status_code != 200:
                errors.append(f"GET /v1/jobs?status={status}: {response.status_code} {response.text[:300]}")
                busy += 1
            else:
                busy += response.json()["count"]
        if busy == 0:
            return True
        time.sleep(1)
    return False


def client_keys(server: Server, count: int) -> list[str]:
    """One submitter key per client (the service limits requests per key and minute)."""
    admin = server.client("admin")
    keys = []
    for i in range(count):
        response = admin.post("/v1/keys", json={"role": "submitter", "name": f"bench client {i}"})
        if response.status_code != 201:
            raise RuntimeError(f"POST /v1/keys answered {response.status_code}: {response.text[:300]}")
        keys.append(response.json()["key"])
    return keys


def run_level(server: Server, keys: list[str], inputs: Inputs, kind: str, question: str, clients: int,
              window_s: float, drain_s: float, poll_s: float) -> dict[str, Any]:
    """One load level; its tally and the server's memory afterwards."""
    tally = Tally()
    start = time.monotonic()
    window_end, drain_end = start + window_s, start + window_s + drain_s
    threads = [threading.Thread(target=_client, args=(server, keys[i], inputs, question, f"{kind}{clients}-{i}", window_end,
                                                      drain_end, poll_s, tally), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, drain_end - time.monotonic() + 30))
    idle = _wait_idle(server, drain_s, tally.errors)
    return {
        "kind": kind, "question": question, "clients": clients, "window_s": window_s, "poll_s": poll_s,
        "jobs_in_window": tally.done_in_window, "jobs_done": len(tally.job_latency_s),
        "busy_s": round(tally.last_done - start, 1),
        "jobs_per_minute": round(len(tally.job_latency_s) * 60 / (tally.last_done - start), 1) if tally.last_done else 0.0,
        "job_latency": summary_ms(tally.job_latency_s), "get_latency": summary_ms(tally.get_latency_s),
        "errors": tally.errors, "unfinished": tally.unfinished, "idle_after": idle,
        "memory_mb": process_memory_mb(server.proc.pid), "elapsed_s": round(time.monotonic() - start, 1),
    }


def measure(server: Server, inputs: Inputs, *, levels: tuple[int, ...], window_s: float, drain_s: float,
            poll_s: float = 0.5) -> Section:
    """Every load level in turn; one row per level, then peak memory."""
    section = Section("throughput", notes=[
        f"each job: one new nameplate + '{QUESTION}' (field: planned and answered in code, OCR-bound) or "
        f"'{OPEN_QUESTION}' (open: the LLM plans and drafts); plan, OCR, draft, check, stop at review; "
        f"window {window_s:.0f} s per level, polling every {poll_s} s; the service runs 2 workers "
        "and one planner (llama.cpp calls are serialised); each client has its own submitter key (the "
        "service allows 600 requests per key and minute)"])
    keys = client_keys(server, max(levels))
    for kind, question in (("field", QUESTION), ("open", OPEN_QUESTION)):
        for clients in levels:
            _level_rows(section, run_level(server, keys, inputs, kind, question, clients, window_s, drain_s, poll_s))
    memory = process_memory_mb(server.proc.pid)
    section.raw["memory_mb"] = memory
    section.rows.append(Row("server memory", "after all levels: peak RSS (VmHWM); RSS / PSS now",
                            f"{memory.get('VmHWM', 0):,.0f} MB; {memory.get('VmRSS', 0):,.0f} / {memory.get('Pss', 0):,.0f} MB"))
    return section


def _level_rows(section: Section, level: dict[str, Any]) -> None:
    """A level's two rows: jobs per minute with latency and errors; GET latency."""
    kind, clients = level["kind"], level["clients"]
    section.raw[f"{kind}_clients_{clients}"] = level
    job, get = level["job_latency"], level["get_latency"]
    errors = len(level["errors"])
    who = f"load {clients} client{'s' * (clients > 1)}, {kind} question"
    unfinished = f", {level['unfinished']} unfinished" if level["unfinished"] else ""
    section.rows += [
        Row(who, "jobs/min to awaiting_review; job latency p50 / p95; errors",
            f"{level['jobs_per_minute']:.1f}/min; {fmt_ms(job['median_ms'])} / {fmt_ms(job['p95_ms'])}; {errors} errors",
            f"{level['jobs_done']} jobs in {level['busy_s']:.0f} s{unfinished}", None, "0 errors", errors == 0),
        Row(who, f"GET /v1/jobs/{{id}} latency p50 / p95 (n={get['n']})",
            f"{fmt_ms(get['median_ms'])} / {fmt_ms(get['p95_ms'])}", "", None, f"p95 ≤ {GET_TARGET_MS:.0f} ms",
            get["p95_ms"] is not None and get["p95_ms"] <= GET_TARGET_MS),
    ]
