"""A bounded load on loopback: many clients submitting and polling jobs for a while.

Used by the CI test (API only, 200 submissions from 20 clients) and by the soak
(`python -m tests.reliability.soak`, 10 minutes with the real planner and tools).
Every loop is bounded by a count and a deadline; traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass
class LoadReport:
    """What happened under load."""

    submitted: list[str] = field(default_factory=list)
    status_counts: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    get_latencies_ms: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    def count(self, status: int) -> None:
        self.status_counts[status] = self.status_counts.get(status, 0) + 1

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.status_counts.items() if s >= 500)

    def summary(self) -> dict[str, object]:
        lat = sorted(self.get_latencies_ms)
        return {
            "submitted": len(self.submitted), "statuses": dict(sorted(self.status_counts.items())),
            "errors": len(self.errors), "get_p50_ms": round(statistics.median(lat), 1) if lat else None,
            "get_p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
            "rss_start_mb": round(self.rss_kb[0] / 1024, 1) if self.rss_kb else None,
            "rss_max_mb": round(max(self.rss_kb) / 1024, 1) if self.rss_kb else None,
        }


def rss_kb(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_load(url: str, key: str, files: list[tuple[str, bytes]], *, clients: int, submissions: int,
             seconds: float, server_pid: int, questions: list[str], interval: float = 0.0) -> LoadReport:
    """`clients` threads share `submissions` submissions (or stop at `seconds`); each polls
    the job it submitted once per round. Memory of `server_pid` is sampled throughout."""
    report = LoadReport()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = iter(range(submissions))
    stop = threading.Event()

    def sample_memory() -> None:
        while not stop.is_set():
            report.rss_kb.append(rss_kb(server_pid))
            stop.wait(0.5)

    def client(n: int) -> None:
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        mine: list[str] = []
        while time.monotonic() < deadline:
            with lock:
                i = next(budget, None)
            if i is None:
                break
            name, data = files[i % len(files)]
            try:
                r = http.post("/v1/jobs", data={"question": questions[i % len(questions)]},
                              files=[("files", (name, data))])
                with lock:
                    report.count(r.status_code)
                    if r.status_code == 202:
                        report.submitted.append(r.json()["id"])
                        mine.append(r.json()["id"])
                for job_id in mine[-3:]:
                    started = time.perf_counter()
                    g = http.get(f"/v1/jobs/{job_id}")
                    with lock:
                        report.get_latencies_ms.append((time.perf_counter() - started) * 1000)
                        report.count(g.status_code)
            except httpx.HTTPError as exc:
                with lock:
                    report.errors.append(f"client {n}: {type(exc).__name__}: {exc}")
            if interval:
                time.sleep(interval)
        http.close()

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sampler.join()
    return report
