"""The job queue, as the rest of the app sees it: hand over a job or a decision.

Two implementations sit side by side and are chosen once, where a process is composed
(`app.service.Service.build`, `jimoku worker`, the CLI):

- `app.inprocess.InProcessQueue`: threads in this process (SQLite, one machine; with no
  threads, the CLI, which runs its job itself);
- `app.queue.ProcrastinateQueue`: procrastinate on PostgreSQL, with `jimoku worker`
  processes on any machine.
"""

from __future__ import annotations

from typing import Any, Protocol

from tools.registry import ToolSpec


class JobQueue(Protocol):
    """What intake and review ask of a queue; the job or decision is already stored."""

    runs_jobs_here: bool
    """True when this process runs the jobs it queues (its own events then feed its metrics,
    and it warms the planner up); False when workers elsewhere do."""

    def defer_job(self, job_id: str, priority: int = 0) -> None:
        """Have a worker run the stored job `job_id` (a second request while it waits is a no-op);
        a higher `priority` runs first where the queue orders by it (intake gives a key's jobs
        `-(its jobs ahead)`, so keys take turns)."""
        ...

    def defer_decision(self, job_id: str) -> None:
        """Have a worker apply the decision recorded on `job_id` (done before returning in-process)."""
        ...

    def run_elsewhere(self, job_id: str, spec: ToolSpec, attachment: dict[str, Any], args: dict[str, Any],
                      key: str) -> dict[str, Any] | None:
        """Run a tool step on a worker of its resource class and return the run, or None to run it here."""
        ...

    def start(self) -> None:
        """Begin taking work (recovering what a stopped process left, where that is this queue's job)."""
        ...

    def close(self) -> None:
        """Stop taking work and release connections; running jobs finish or are picked up later."""
        ...
