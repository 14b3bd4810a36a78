"""Cache: the same nameplate submitted twice as a job; the second job's OCR step is cached.

The step's own `duration_ms` is not a measurement when cached: `graphs.nodes.execute` sets
it to 0.0 on a hit. So the cached step's real cost is measured two ways: the lookup itself
(`DatabaseResultCache.get` on the service's database, the same key), and the execute
node's wall time from the job's timestamps (`planned` → `executed`: checkpoint write,
events, thread pool, lookup), an upper bound.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any

import httpx

from app.store.db import open_database
from app.store.results import DatabaseResultCache
from bench.inputs import QUESTION, Inputs
from bench.report import Row, Section
from bench.stats import fmt_ms
from graphs.cache import cache_key
from tests.fixtures.server import Server

TARGET_MS = 10.0


def submit(client: httpx.Client, question: str, path: Any) -> str:
    """POST /v1/jobs with one file; the job id."""
    response = client.post("/v1/jobs", data={"question": question},
                           files=[("files", (path.name, path.read_bytes()))])
    if response.status_code != 202:
        raise RuntimeError(f"POST /v1/jobs answered {response.status_code}: {response.text[:300]}")
    return response.json()["id"]


def wait(client: httpx.Client, job_id: str, timeout_s: float = 300, poll_s: float = 0.2) -> dict[str, Any]:
    """Poll the job until it waits for review (or ends); its document."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        doc = client.get(f"/v1/jobs/{job_id}").json()
        if doc["status"] not in ("queued", "running"):
            return doc
        time.sleep(poll_s)
    raise TimeoutError(f"job {job_id} did not reach review within {timeout_s:.0f} s")


def _stamp_gap_ms(doc: dict[str, Any], start: str, end: str) -> float:
    ts = doc["timestamps"]
    return (datetime.fromisoformat(ts[end]) - datetime.fromisoformat(ts[start])).total_seconds() * 1000


def measure(server: Server, inputs: Inputs) -> Section:
    """Two jobs on one file; the second one's OCR step and what it really cost."""
    client = server.client("submitter")
    plate = inputs.plate("cache")
    docs = []
    for _ in range(2):
        started = time.perf_counter()
        doc = wait(client, submit(client, QUESTION, plate))
        doc["_wall_s"] = time.perf_counter() - started
        docs.append(doc)
    first, second = docs
    if second["status"] != "awaiting_review":
        raise RuntimeError(f"the cache job ended {second['status']}: {second['error']}")
    step1 = next(s for s in first["steps"] if s["tool"] == "ocr")
    step2 = next(s for s in second["steps"] if s["tool"] == "ocr")
    plan_step = next(p for p in second["plan"] if p["id"] == step2["step"])
    version = next(t["version"] for t in client.get("/v1/tools").json()["data"] if t["name"] == "ocr")
    key = cache_key("ocr", version, second["files"][0]["sha256"], plan_step["args"])
    store = DatabaseResultCache(open_database(None, server.data_dir / "jimoku.db"))
    lookups = []
    for _ in range(50):
        started = time.perf_counter()
        hit = store.get(key)
        lookups.append((time.perf_counter() - started) * 1000)
    lookup_ms = statistics.median(lookups)
    exec1, exec2 = (_stamp_gap_ms(d, "planned", "executed") for d in docs)
    section = Section("cache", raw={
        "first": {"step": step1, "execute_node_ms": exec1, "job_wall_s": first["_wall_s"]},
        "second": {"step": step2, "execute_node_ms": exec2, "job_wall_s": second["_wall_s"]},
        "lookup_ms": lookups, "lookup_hit": hit is not None,
    }, notes=["a cached step reports duration_ms 0.0 whatever the lookup cost (graphs.nodes.execute sets it "
              "on a hit): the reported value is not a measurement; the rows below measure it"])
    section.rows += [
        Row("cache", "2nd job's OCR step: cached / reported duration_ms",
            f"{step2['cached']} / {step2['duration_ms']:.1f} ms", f"1st job: {step1['cached']} / {fmt_ms(step1['duration_ms'])}"),
        Row("cache", "lookup (DatabaseResultCache.get, same key), median of 50", f"{lookup_ms:.2f} ms",
            target=f"≤ {TARGET_MS:.0f} ms", met=hit is not None and lookup_ms <= TARGET_MS),
        Row("cache", "execute node wall (planned → executed timestamps)", f"{exec2:.1f} ms",
            f"1st job (tool ran): {fmt_ms(exec1)}", target=f"≤ {TARGET_MS:.0f} ms", met=exec2 <= TARGET_MS),
        Row("cache", "job wall, submit → awaiting_review (1st = first plan on a fresh service)",
            f"{second['_wall_s']:.1f} s", f"1st job: {first['_wall_s']:.1f} s"),
    ]
    return section
