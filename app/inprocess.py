"""The in-process job queue: threads that take queued jobs from the job table and run them.

Concurrency is bounded twice: a few worker threads (the planner LLM runs one call at a
time anyway), and each tool's own slot limit inside the graph, so CPU-heavy tools never
oversubscribe the two cores. The next job taken is the fair one (`app.store.jobs.next_fair`:
the key with the fewest jobs running, then the one served longest ago), so one key's burst does
not make every other key wait behind it. On start, jobs a killed process left `running` go back to
the queue and decisions it recorded but did not apply are applied. With no threads
(the CLI) a job waits in the table for whoever runs it, and decisions apply at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.runner import Runner
from app.store.jobs import next_fair
from tools.registry import ToolSpec

log = logging.getLogger(__name__)


class InProcessQueue:
    """`start()` N threads; `defer_job` wakes one; `close()` on shutdown."""

    runs_jobs_here = True

    def __init__(self, runner: Runner, workers: int = 2, poll_seconds: float = 2.0) -> None:
        self.runner = runner
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._taken: set[str] = set()
        """Jobs a thread of this queue has taken and not finished (the table still says queued
        until the runner starts them)."""
        self._taken_lock = threading.Lock()

    def defer_job(self, job_id: str, priority: int = 0) -> None:
        """The job is in the table as queued: let an idle thread take it now (the order is the fair
        pick of `_take`, so `priority` is not needed here)."""
        with self._wake:
            self._wake.notify()

    def defer_decision(self, job_id: str) -> None:
        """Apply the recorded decision now, in the caller's thread (it is quick: no LLM)."""
        self.runner.apply_recorded_decision(job_id)

    def run_elsewhere(self, job_id: str, spec: ToolSpec, attachment: dict[str, Any], args: dict[str, Any],
                      key: str) -> dict[str, Any] | None:
        """Every tool runs here."""
        return None

    def start(self) -> None:
        """Recover what a previous process left, then start the threads."""
        if self.workers <= 0:
            return
        requeued = self.runner.jobs.requeue_running()
        if requeued:
            log.warning("re-queued %d job(s) left running by a stopped process: %s", len(requeued), requeued)
        for job in self.runner.apply_pending_decisions():
            log.warning("applied a review decision recorded before a stop: job %s is %s", job.id, job.status)
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def close(self) -> None:
        """Stop taking jobs (running ones finish or are re-queued on next start)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()

    def _take(self) -> str | None:
        with self._taken_lock:
            job_id = next_fair(self.runner.jobs.db, exclude=self._taken)  # round-robin across keys
            if job_id is not None:
                self._taken.add(job_id)
            return job_id

    def _loop(self) -> None:
        while not self._stop.is_set():
            job_id = self._take()
            if job_id is None:
                with self._wake:
                    self._wake.wait(self.poll_seconds)
                continue
            try:
                self.runner.run(job_id)
            except Exception:  # run() reports job failures itself; this is a bug guard
                log.exception("worker failed on job %s", job_id)
            finally:
                with self._taken_lock:
                    self._taken.discard(job_id)
