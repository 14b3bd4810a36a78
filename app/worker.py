"""The in-process worker pool: threads that take queued jobs and run them.

Concurrency is bounded twice: a few worker threads (the planner LLM runs one call at a
time anyway), and each tool's own slot limit inside the graph, so CPU-heavy tools never
oversubscribe the two cores. On start, jobs a killed process left `running` go back to
the queue and decisions it recorded but did not apply are applied.
"""

from __future__ import annotations

import logging
import threading

from app.engine import Engine

log = logging.getLogger(__name__)


class WorkerPool:
    """`start()` N threads; `wake()` after a submission; `stop()` on shutdown."""

    def __init__(self, engine: Engine, workers: int = 2, poll_seconds: float = 2.0) -> None:
        self.engine = engine
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Recover what a previous process left, then start the threads (none with PostgreSQL:
        there, `jimoku worker` processes run the jobs and their sweeper recovers)."""
        if self.engine.distributed:
            return
        requeued = self.engine.jobs.requeue_running()
        if requeued:
            log.warning("re-queued %d job(s) left running by a stopped process: %s", len(requeued), requeued)
        for job in self.engine.apply_pending_decisions():
            log.warning("applied a review decision recorded before a stop: job %s is %s", job.id, job.status)
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        """A job was queued: let an idle worker take it now."""
        with self._wake:
            self._wake.notify()

    def stop(self) -> None:
        """Stop taking jobs (running ones finish or are re-queued on next start)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()

    def _loop(self) -> None:
        while not self._stop.is_set():
            job_id = self.engine.jobs.claim_next()
            if job_id is None:
                with self._wake:
                    self._wake.wait(self.poll_seconds)
                continue
            try:
                self.engine.run(job_id)
            except Exception:  # run() reports job failures itself; this is a bug guard
                log.exception("worker failed on job %s", job_id)
