"""Scale-out throughput: the same batch of jobs with 1, 2 and 3 `jimoku worker` processes.

`python -m bench.scale [--jobs 24] [--workers 1,2,3] [--planner timed|real]` starts a private
PostgreSQL, one API and N workers (each with its own data folder), submits `--jobs`
one-nameplate jobs at once (each plate its own, so the cache never hides the OCR) and
times submission → the last job awaiting review: jobs/minute, and the ratio to one worker.

`--planner timed` (the default) puts the rule-following stand-in of the tests in the
workers (each LLM call a 1 s wait, no CPU): that measures what distribution itself gives
when the planner runs elsewhere (a GPU box, a llama.cpp server). `--planner real` runs the
embedded llama.cpp planner in every worker, which on this 2-core machine competes for the
same cores; read its ratios as the cost of oversubscription, not of the queue.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bench import machine, report
from bench.cache import submit
from bench.inputs import QUESTION, Inputs
from bench.report import Row, Section
from tests.fixtures.postgres import running_postgres
from tests.fixtures.server import start_server, stop

TIMED = {"JIMOKU_PLANNER_FACTORY": "tests.fixtures.timed_planner:make", "JIMOKU_TEST_LLM_SECONDS": "1"}


def _batch(url: str, tmp: Path, inputs: Inputs, workers: int, jobs: int, env: dict[str, str]) -> dict[str, float]:
    """One configuration: wall time of `jobs` jobs with `workers` workers."""
    server = start_server(tmp / f"api-{workers}", database_url=url,
                          extra_env={"JIMOKU_WARM_UP": "false", "JIMOKU_RATE_LIMIT_PER_MINUTE": "100000", **env})
    try:
        for _ in range(workers):
            server.start_worker()
        time.sleep(5)  # let the workers import their tools before the clock starts
        plates = [inputs.plate(f"w{workers}-{i}") for i in range(jobs)]
        started = time.monotonic()
        with server.client("submitter") as client, ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(lambda p: submit(client, QUESTION, p), plates))
            pending, failed = set(ids), 0
            while pending:
                if time.monotonic() - started > 60 * 30:
                    raise TimeoutError(f"{len(pending)} jobs unfinished after 30 min")
                for job_id in list(pending):
                    status = client.get(f"/v1/jobs/{job_id}").json()["status"]
                    if status in ("awaiting_review", "approved", "rejected", "failed"):
                        pending.discard(job_id)
                        failed += status == "failed"
                time.sleep(0.5)
        wall = time.monotonic() - started
        return {"workers": workers, "jobs": jobs, "wall_s": round(wall, 1), "failed": failed,
                "jobs_per_minute": round(jobs * 60 / wall, 1)}
    finally:
        stop(server.proc, *server.workers)


def measure(inputs: Inputs, tmp: Path, *, workers: tuple[int, ...] = (1, 2, 3), jobs: int = 24,
            planner: str = "timed") -> Section:
    """Jobs/minute per worker count, each with a fresh database."""
    env = TIMED if planner == "timed" else {}
    runs = []
    with running_postgres() as pg:
        for n in workers:
            runs.append(_batch(pg.new_database(), tmp, inputs, n, jobs, env))
    base = runs[0]["jobs_per_minute"]
    rows = [Row("scale-out", f"{r['workers']} worker(s), {jobs} jobs, {planner} planner",
                f"{r['jobs_per_minute']} jobs/min", baseline=f"{base} jobs/min (1 worker)",
                ratio=round(r["jobs_per_minute"] / base, 2), target="0 failed", met=r["failed"] == 0)
            for r in runs]
    notes = ["One API, N `jimoku worker` processes on loopback, PostgreSQL 15 private cluster; "
             "wall time from the first submission to the last job awaiting review."]
    return Section("scale-out", rows=rows, raw={"runs": runs, "planner": planner}, notes=notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--workers", default="1,2,3", help="comma-separated worker counts")
    parser.add_argument("--planner", choices=["timed", "real"], default="timed")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    started_at = datetime.now().astimezone()
    t0 = time.perf_counter()
    monitor = machine.LoadMonitor()
    monitor.start()
    with tempfile.TemporaryDirectory(prefix="jimoku-scale-") as tmp_name:
        tmp = Path(tmp_name)
        section = measure(Inputs(tmp / "inputs"), tmp, workers=tuple(int(w) for w in args.workers.split(",")),
                          jobs=args.jobs, planner=args.planner)
    doc = report.document([section], {
        "started_at": started_at.isoformat(timespec="seconds"), "mode": f"scale ({args.planner} planner)",
        "config": vars(args) | {"out": str(args.out)}, "wall_s": round(time.perf_counter() - t0, 1),
        "machine": machine.describe(), "load": monitor.stop()})
    report.write(doc, args.out, f"{started_at:%Y-%m-%d}-scale-{args.planner}")
    print(report.markdown(doc))
    return 0 if all(r.met for r in section.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
