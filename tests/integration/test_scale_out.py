"""Scale-out on PostgreSQL: 2 API processes, 3 `jimoku worker` processes, 60 jobs, one worker
SIGKILLed mid-job. Nothing is lost, nothing runs twice, and a review posted to one API is
applied by a worker to a job that another worker started.

Each process has its own data folder, as on separate machines: jobs, checkpoints, uploads,
tool results and the queue are shared through PostgreSQL only. The workers' planner is a
rule-following stand-in taking 1 s a call (tests/fixtures/timed_planner.py); OCR is real.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.fixtures.images import render_nameplate
from tests.fixtures.postgres import Postgres
from tests.fixtures.server import Server, start_server, stop, wait_for_status

pytestmark = pytest.mark.slow

JOBS = 60
ENV = {
    "JIMOKU_WARM_UP": "false", "JIMOKU_PLANNER_FACTORY": "tests.fixtures.timed_planner:make",
    "JIMOKU_TEST_LLM_SECONDS": "1", "JIMOKU_WORKER_HEARTBEAT_SECONDS": "1", "JIMOKU_WORKER_STALLED_SECONDS": "5",
    # All 60 jobs come from one key at once: above the per-key queue limit (50), which has its own tests.
    "JIMOKU_MAX_QUEUED_JOBS_PER_KEY": "1000",
}


def events(server: Server) -> list[tuple[str, str, str, str]]:
    """(job, event, worker, data) for every event in the log, in order."""
    return [tuple(r) for r in server.sql("SELECT job_id, event, worker, data FROM job_events ORDER BY id")]


def kill_a_worker_mid_job(server: Server, timeout: float = 120) -> tuple[str, int]:
    """SIGKILL a worker inside a job: its tool step done (checkpointed), its draft being written."""
    pids = {p.pid: p for p in server.workers}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last: dict[str, tuple[str, str]] = {}
        for job_id, event, worker, _ in events(server):
            last[job_id] = (event, worker)
        for job_id, (event, worker) in last.items():
            pid = int(worker.rsplit(":", 1)[1])
            if pid in pids and event == "step_finished":
                time.sleep(0.3)  # past the execute node's checkpoint, inside the 1 s draft call
                os.kill(pid, signal.SIGKILL)
                pids[pid].wait(10)
                return job_id, pid
        time.sleep(0.05)
    raise TimeoutError("no worker was seen inside a job")


def test_sixty_jobs_two_apis_three_workers_one_killed(tmp_path: Path, postgres: Postgres) -> None:
    url = postgres.new_database()
    plates = [render_nameplate(tmp_path / f"plate{i}.png", [f"SERIAL NO. AX-{4400 + i}-B", "MODEL KX-200"])
              for i in range(6)]
    api1 = start_server(tmp_path / "api1", database_url=url, extra_env=ENV)
    api2 = start_server(tmp_path / "api2", database_url=url, extra_env=ENV, keys=api1.keys)
    try:
        for _ in range(3):
            api1.start_worker()
        apis = [api1, api2]

        def submit(i: int) -> tuple[str, int]:
            plate = plates[i % len(plates)]
            with apis[i % 2].client("submitter") as client:
                r = client.post("/v1/jobs", data={"question": "What is the serial number?"},
                                files=[("files", (plate.name, plate.read_bytes()))])
            assert r.status_code == 202, r.text
            return r.json()["id"], i % 2

        with ThreadPoolExecutor(6) as pool:
            submitted = dict(pool.map(submit, range(JOBS)))
        killed_job, killed_pid = kill_a_worker_mid_job(api1)

        with api1.client("admin") as admin:
            for job_id in submitted:
                wait_for_status(admin, job_id, {"awaiting_review", "approved", "rejected", "failed"}, timeout=600)
        rows = dict(api1.sql("SELECT id, status FROM jobs"))
        assert set(rows) == set(submitted) and len(submitted) == JOBS  # none lost, none extra
        assert set(rows.values()) == {"awaiting_review"}, Counter(rows.values())

        log = events(api1)
        per_job = Counter((job, event) for job, event, _, _ in log)
        for job_id in submitted:
            assert per_job[(job_id, "queued")] == 1 and per_job[(job_id, "awaiting_review")] == 1, job_id
        # No tool step computed twice: a step re-entered after the kill comes from the cache.
        finished = [(job, json.loads(data)) for job, event, _, data in log if event == "step_finished"]
        computed = Counter((job, step["step"]) for job, step in finished if not step["cached"])
        assert max(computed.values()) == 1
        # The killed worker's job was finished by another worker, from its checkpoint.
        runners = [w for job, event, w, _ in log if job == killed_job and event == "running"]
        assert runners[0].endswith(f":{killed_pid}") and not runners[-1].endswith(f":{killed_pid}")
        resumed = [(event, data) for job, event, w, data in log if job == killed_job and w == runners[-1]]
        # From the last checkpoint: no second plan, and no tool computed again (normally the
        # execute node's checkpoint is there and the run starts at the draft).
        assert "planned" not in [e for e, _ in resumed] and [e for e, _ in resumed][-2:] == ["drafted", "awaiting_review"]
        assert all(json.loads(d)["cached"] for e, d in resumed if e == "step_finished")
        print(f"resumed run of the killed job: {[e for e, _ in resumed]}")
        assert api1.sql(f"SELECT attempts FROM jobs WHERE id = '{killed_job}'") == [(2,)]
        print(f"\nkilled worker {killed_pid} inside job {killed_job}; its runs: {runners}; jobs run per worker: "
              f"{Counter(w for _, event, w, _ in log if event == 'running')}")
        # Every worker took part; none of the queue's tasks is left behind.
        workers_used = {w for _, event, w, _ in log if event == "running"}
        assert {f":{p.pid}" for p in api1.workers} <= {":" + w.rsplit(":", 1)[1] for w in workers_used}
        assert api1.sql("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')") == [(0,)]

        # A review posted to the other API is applied by a live worker to the job the killed one started.
        other = api2 if submitted[killed_job] == 0 else api1
        with other.client("reviewer") as reviewer:
            decided = reviewer.post(f"/v1/reviews/{killed_job}", json={"decision": "approve"})
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "approved" and decided.json()["final_answer"]
        finalizer = [w for job, event, w, _ in events(api1) if job == killed_job and event == "finalized"]
        assert len(finalizer) == 1 and not finalizer[0].endswith(f":{killed_pid}")
        assert int(finalizer[0].rsplit(":", 1)[1]) in {p.pid for p in api1.workers if p.poll() is None}
        with httpx.Client(base_url=api1.url) as client:
            assert client.get("/healthz").status_code == 200
    finally:
        stop(api1.proc, api2.proc, *api1.workers)


def test_a_tool_moved_to_the_gpu_class_runs_only_on_the_gpu_worker(tmp_path: Path, postgres: Postgres) -> None:
    """`JIMOKU_TOOL_RESOURCES` puts OCR in the `gpu` class: a worker taking only `jobs` plans and
    drafts, and the OCR step waits in the `gpu` queue until a `--queues gpu` worker starts."""
    plate = render_nameplate(tmp_path / "plate.png", ["SERIAL NO. AX-4471-B", "MODEL KX-200"])
    env = {**ENV, "JIMOKU_TOOL_RESOURCES": '{"ocr": "gpu"}'}
    api = start_server(tmp_path / "api", database_url=postgres.new_database(), extra_env=env)
    try:
        api.start_worker(queues="jobs")
        with api.client("submitter") as client:
            r = client.post("/v1/jobs", data={"question": "What is the serial number?"},
                            files=[("files", (plate.name, plate.read_bytes()))])
            job_id = r.json()["id"]
            deadline = time.monotonic() + 60
            while not api.sql("SELECT 1 FROM procrastinate_jobs WHERE task_name = 'jimoku.run_step'"):
                assert time.monotonic() < deadline, "the OCR step was never sent to its queue"
                time.sleep(0.2)
            time.sleep(2)
            assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "running"  # waiting for a gpu worker
            gpu = api.start_worker(queues="gpu")
            doc = wait_for_status(client, job_id, {"awaiting_review", "failed"}, timeout=120)
        assert doc["status"] == "awaiting_review", doc
        assert "AX-4471-B" in doc["steps"][0]["summary"] and doc["steps"][0]["tool"] == "ocr"
        assert api.sql("SELECT count(*) FROM procrastinate_jobs") == [(0,)]  # done tasks are deleted
        by = {event: worker for job, event, worker, _ in events(api) if job == job_id}
        assert by["tool_ran"].endswith(f":{gpu.pid}") and by["planned"].endswith(f":{api.workers[0].pid}")
    finally:
        stop(api.proc, *api.workers)
