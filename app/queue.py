"""Distributed workers on procrastinate (a PostgreSQL task queue), for running on many machines.

Queues:
- `jobs`: run a job's graph (plan, execute, draft, check). Any worker listening on `jobs`
  can continue any job from its last checkpoint.
- `reviews`: apply a reviewer's decision (resume the graph to its end). A worker serving
  `jobs` also runs a one-slot lane for it, so a decision never waits behind long jobs.
- one queue per tool resource class (`cpu`, `gpu`, …): a tool step whose resource
  class the job's worker does not serve is sent there, and its result comes back
  through the shared result cache. `jimoku worker --queues gpu` on the machine with
  the GPU pins the heavy tools to it.

Exactly once: a job runs under a PostgreSQL advisory lock named after it, so two
workers can never run it at the same time; the graph resumes from its checkpoint, and
tool results already cached are not recomputed. A worker that dies (SIGKILL, machine
lost) stops sending heartbeats; any other worker's sweeper sees that and puts its jobs
back in the queue, and the server has already released its locks with its connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from app.jobqueue import JobQueue
from app.store.db import Database
from app.store.migrations import register_postgres_extra
from graphs.cache import ResultCache
from graphs.contract import Event
from graphs.state import Attachment
from graphs.steps import run_once
from tools.registry import ToolSpec
from tools.runner import ToolRun

if TYPE_CHECKING:
    from app.engine import Engine

log = logging.getLogger(__name__)

JOB_QUEUE = "jobs"
REVIEW_QUEUE = "reviews"
"""Review decisions have a lane of their own in every worker that serves `jobs`: applying one
is quick (no LLM), and it must not wait behind the long jobs ahead of it in the queue."""
RUN_JOB, APPLY_DECISION, RUN_STEP = "jimoku.run_job", "jimoku.apply_decision", "jimoku.run_step"

def _engine(context: procrastinate.JobContext) -> Engine:
    """The engine of the worker running this task (`serve` hands it to procrastinate's workers)."""
    engine: Engine | None = context.additional_context.get("engine")
    if engine is None:
        raise RuntimeError("jimoku tasks run in `jimoku worker`, which hands them its engine")
    return engine


def run_job(context: procrastinate.JobContext, job_id: str) -> None:
    """Run a job until it waits for review or ends (from its last checkpoint)."""
    _engine(context).run(job_id)


def apply_decision(context: procrastinate.JobContext, job_id: str) -> None:
    """Resume a job with the decision a reviewer recorded (on whichever API)."""
    _engine(context).runner.apply_recorded_decision(job_id)


def run_step(context: procrastinate.JobContext, job_id: str, tool: str, attachment: Attachment,
             args: dict[str, Any], key: str, failure_key: str) -> None:
    """Run one tool step for a job running on another worker; a success goes to the shared cache
    under `key` (as any step's does), a failure under `failure_key` for that worker to read."""
    engine = _engine(context)
    run, cached = run_once(engine.registry.get(tool), attachment, args, cache=engine.cache,
                           single_flight=engine.single_flight, tool_ctx=engine.tool_ctx,
                           artifact_path=engine.artifact_path, job_id=job_id)
    if cached:
        return
    if not run["ok"]:
        engine.cache.put(failure_key, run)
    engine.emit(job_id, Event.TOOL_RAN, {"tool": tool, "file": attachment["id"], "ok": run["ok"],
                                         "duration_ms": run["duration_ms"]})


def make_app(url: str) -> procrastinate.App:
    """The procrastinate app with jimoku's tasks (not opened)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    app.task(name=RUN_JOB, queue=JOB_QUEUE, pass_context=True)(run_job)
    app.task(name=APPLY_DECISION, queue=REVIEW_QUEUE, pass_context=True)(apply_decision)
    app.task(name=RUN_STEP, queue="cpu", pass_context=True)(run_step)
    return app


def apply_queue_schema(url: str) -> None:
    """Create procrastinate's tables once (called by `jimoku db upgrade`, under its lock)."""
    import psycopg

    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone() == (True,)
    if not exists:
        app = make_app(url)
        with app.open():
            app.schema_manager.apply_schema()


register_postgres_extra("procrastinate queue", apply_queue_schema)


class ProcrastinateQueue:
    """The `app.jobqueue.JobQueue` on procrastinate: jobs, decisions and tool steps become tasks
    that `jimoku worker` processes (on any machine) take from PostgreSQL."""

    runs_jobs_here = False

    def __init__(self, app: procrastinate.App, *, results: ResultCache, served: set[str] | None = None,
                 step_wait_seconds: float = 600.0, resources: dict[str, str] | None = None) -> None:
        self.app = app
        self.results = results
        """The shared tool-result cache, where a step run by another worker is found."""
        self.served = served
        """Resource classes this process runs itself (None: all of them)."""
        self.step_wait_seconds = step_wait_seconds
        self.resources = resources or {}
        """Tool name → resource class, overriding what the tool declares (`JIMOKU_TOOL_RESOURCES`)."""

    def defer_job(self, job_id: str, priority: int = 0) -> None:
        """Queue a job; a second request while one waits is a no-op (queueing lock). When the queue
        cannot be reached the job stays accepted: a worker's sweep queues it later.

        Fair order across keys: procrastinate takes the highest `priority` first, then the oldest,
        and intake gives a key's job `-(that key's jobs ahead of it)`, so the first job of every
        key comes before any key's second (set at defer time: a job keeps its place). Chosen over a
        queue per key (workers listen to fixed queue names) and over `lock` (which serialises a
        key's jobs instead of interleaving them)."""
        self._defer(RUN_JOB, f"job:{job_id}", job_id, priority)

    def defer_decision(self, job_id: str) -> None:
        """Queue the application of a recorded review decision (or leave it to the sweep, as above)."""
        self._defer(APPLY_DECISION, f"decision:{job_id}", job_id)

    def _defer(self, task: str, lock: str, job_id: str, priority: int = 0) -> None:
        try:
            self.app.configure_task(task, queueing_lock=lock, priority=priority).defer(job_id=job_id)
        except AlreadyEnqueued:
            pass
        except Exception:  # stored already: the workers' sweep finds what has no queue entry
            log.exception("%s for job %s stored but not queued; the workers' sweep will queue it", task, job_id)

    def start(self) -> None:
        """Nothing to start in this process: `jimoku worker` processes run the tasks (`serve`)."""

    def close(self) -> None:
        """Close the connection to the queue."""
        self.app.close()

    def run_elsewhere(self, job_id: str, spec: ToolSpec, attachment: dict[str, Any], args: dict[str, Any],
                      key: str) -> dict[str, Any] | None:
        """Send a step to the queue of its resource class when this worker does not serve it, and
        wait for its result; None to run it here."""
        resource = self.resources.get(spec.name, spec.resource)
        if self.served is None or resource in self.served:
            return None
        failure_key = f"failed:{key}:{uuid.uuid4().hex}"
        started = time.perf_counter()
        self.app.configure_task(RUN_STEP, queue=resource).defer(
            job_id=job_id, tool=spec.name, attachment=attachment, args=args, key=key, failure_key=failure_key)
        deadline = time.monotonic() + spec.timeout + self.step_wait_seconds
        while time.monotonic() < deadline:
            for found in (self.results.get(key), self.results.get(failure_key)):
                if found is not None:
                    return found
            time.sleep(0.2)
        return ToolRun(tool=spec.name, version=spec.version, ok=False, error_kind="unavailable",
                       error=f"no worker serving the {resource!r} queue ran this step within "
                             f"{spec.timeout + self.step_wait_seconds:.0f} s; start `jimoku worker --queues "
                             f"{resource}` on a machine that has that resource",
                       duration_ms=(time.perf_counter() - started) * 1000).model_dump(mode="json")


async def sweep(app: procrastinate.App, engine: Engine, *, stalled_seconds: float, every: float) -> None:
    """Forever: re-queue the jobs of workers whose heartbeat stopped, and any accepted job or
    recorded decision that has no queue entry (e.g. an API died between storing and queueing)."""
    while True:
        try:
            for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds):
                log.warning("worker %s stopped beating: job %s (%s) goes back to the queue",
                            job.worker_id, job.id, job.task_kwargs)
                await app.job_manager.retry_job(job)
            await asyncio.to_thread(requeue_orphans, engine.db, engine.queue, stalled_seconds)
        except Exception:  # the sweeper must outlive a database blip
            log.exception("sweep failed; trying again in %.0f s", every)
        await asyncio.sleep(every)


def requeue_orphans(db: Database, queue: JobQueue, older_than_seconds: float) -> None:
    """Jobs queued/running and decisions unapplied with no live queue entry are queued again."""
    before = (datetime.now(UTC) - timedelta(seconds=older_than_seconds)).isoformat(timespec="milliseconds")
    live = ("SELECT 1 FROM procrastinate_jobs p WHERE p.task_name = ? AND p.args->>'job_id' = {id} "
            "AND p.status IN ('todo', 'doing')")
    jobs = db.all(f"SELECT j.id FROM jobs j WHERE j.status IN ('queued', 'running') AND j.updated_at <= ? "
                         f"AND NOT EXISTS ({live.format(id='j.id')})", (before, RUN_JOB))
    decisions = db.all(f"SELECT d.job_id FROM decisions d WHERE d.applied = 0 AND d.recorded_at <= ? "
                              f"AND NOT EXISTS ({live.format(id='d.job_id')})", (before, APPLY_DECISION))
    for (job_id,) in jobs:
        log.warning("job %s had no queue entry; queued again", job_id)
        queue.defer_job(job_id)
    for (job_id,) in decisions:
        log.warning("the decision on job %s had no queue entry; queued again", job_id)
        queue.defer_decision(job_id)


def serve(engine: Engine, app: procrastinate.App, queues: list[str] | None, concurrency: int) -> None:
    """Run a worker until SIGTERM/SIGINT: procrastinate's loop (with heartbeats) and the sweeper.
    The tasks get `engine` through procrastinate's job context (`additional_context`)."""
    s = engine.settings

    async def main() -> None:
        options: dict[str, Any] = {
            "update_heartbeat_interval": s.worker_heartbeat_seconds, "stalled_worker_timeout": s.worker_stalled_seconds,
            # Finished tasks are bookkeeping (the job's history is in job_events); failed ones stay.
            "delete_jobs": "successful",
            "additional_context": {"engine": engine},
        }
        async with app.open_async():
            side = [asyncio.create_task(sweep(app, engine, stalled_seconds=s.worker_stalled_seconds,
                                              every=max(1.0, s.worker_heartbeat_seconds)))]
            if queues is None or JOB_QUEUE in queues:
                side.append(asyncio.create_task(app.run_worker_async(
                    queues=[REVIEW_QUEUE], concurrency=1, name="jimoku-reviews", install_signal_handlers=False,
                    **options)))
            try:
                # SIGTERM/SIGINT stop this one gracefully (the running task finishes); then the rest.
                listen: dict[str, Any] = {"queues": queues} if queues else {}  # none given: every queue
                await app.run_worker_async(**listen, concurrency=concurrency,
                                           name=f"jimoku-{'-'.join(queues or ['all'])}", install_signal_handlers=True,
                                           **options)
            finally:
                for task in side:
                    task.cancel()
                await asyncio.gather(*side, return_exceptions=True)

    asyncio.run(main())
