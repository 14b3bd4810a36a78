"""The runner: take a stored job through the graph, or resume it with a recorded decision.

A job runs under a lock named after it (`Database.session_lock`: a PostgreSQL advisory
lock across machines, freed by the server if the process dies; among this process's
threads on SQLite), so it never runs in two places at once. Each run counts an attempt:
a job whose worker died `max_attempts` times fails with that reason instead of taking
the next worker down. The job table's status is written once per transition: `running`
when a run starts, then `awaiting_review`, or the final status when the graph ends.

A decision is applied exactly once, wherever a kill cut it (issue 18): a job with a recorded
decision is never run as a new attempt (it is never set `running`; the decision path takes it),
a resume cut short is continued from its last checkpoint (which can lag behind the steps
that ran: the review step's result saved as a pending write, its checkpoint not yet; LangGraph
then shows no next step and no interrupt, and taking that for "ended" once wrote the job's
status as the graph's `running`), the
decision is marked applied only after the job's final status is written, and `finalized` is
said once even if the finalize step runs again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot

from app.settings import Settings
from app.store.event_log import EventLog
from app.store.jobs import JobRow, JobStore, start_run
from graphs.context import EventSink, GraphContext
from graphs.contract import FINAL_STATUSES, Event

log = logging.getLogger(__name__)


def _unfinished(snapshot: StateSnapshot) -> bool:
    """The graph has steps left: a next node, or tasks of the last checkpoint (a step whose result
    is saved but whose checkpoint is not, after a kill)."""
    return bool(snapshot.next or snapshot.tasks)


def _config(job_id: str) -> RunnableConfig:
    # The job's id is its LangGraph thread: its checkpoints are found by it.
    return {"configurable": {"thread_id": job_id}}


class Runner:
    """Runs jobs and applies decisions; tells `finished(job_id)` when a job's graph has ended."""

    def __init__(self, settings: Settings, *, jobs: JobStore, graph: CompiledStateGraph[Any, Any, Any, Any],
                 emit: EventSink,
                 context: Callable[[], GraphContext], finished: Callable[[str], None]) -> None:
        self.settings = settings
        self.jobs = jobs
        self.graph = graph
        self.emit = emit
        self.context = context
        """The runtime context for one run (built per run: the planner loads on first use)."""
        self.finished = finished

    def state(self, job_id: str) -> dict[str, Any]:
        """The graph state of a job (plan, steps, draft, flags, …); empty before its first run."""
        return dict(self.graph.get_state(_config(job_id)).values)

    def run(self, job_id: str) -> JobRow:
        """Run (or continue) a job until it waits for review or ends. Never raises for the job's
        own failure; a job already running elsewhere is left to that run."""
        with self.jobs.db.session_lock(f"jimoku-job:{job_id}") as mine:
            return self._run(job_id) if mine else self.jobs.get(job_id)

    def _run(self, job_id: str) -> JobRow:
        job = self.jobs.get(job_id)
        if job.status in FINAL_STATUSES or job.status == "awaiting_review":
            return job
        recorded = self.jobs.decision(job_id)
        if recorded is not None:  # decided: only the decision path may finish it (not a new attempt)
            return self._apply(job_id, recorded.decision)
        if job.attempts >= self.settings.max_attempts:
            return self._fail(job_id, (
                f"the worker stopped {job.attempts} times while running this job (crash or kill); "
                "it was not retried again. Check the logs, then submit it again"))
        if not start_run(self.jobs.db, job_id):  # cancelled (or taken by a decision) since it was read
            return self.jobs.get(job_id)
        self.emit(job_id, Event.RUNNING, {"status": "running", "attempt": job.attempts + 1})
        config = _config(job_id)
        started = bool(self.graph.get_state(config).values)
        payload: Any = None if started else {
            "job_id": job_id, "question": job.question, "files": job.files, "auto_approve": job.auto_approve,
        }
        try:
            self.graph.invoke(payload, config, context=self._context(job_id))
        except Exception as exc:  # the job fails with a reason; the process stays up
            log.exception("job %s failed", job_id)
            return self._fail(job_id, f"{type(exc).__name__}: {exc}")
        return self._settle(job_id)

    def _fail(self, job_id: str, reason: str) -> JobRow:
        self.jobs.set_status(job_id, "failed", error=reason)
        self.emit(job_id, Event.FAILED, {"status": "failed", "error": reason})
        return self.jobs.get(job_id)

    def apply_recorded_decision(self, job_id: str) -> JobRow:
        """Resume a job with the decision recorded on it, if that is not applied yet (or applied but
        the job's final status was never written)."""
        recorded = self.jobs.decision(job_id)
        if recorded is None or (recorded.applied and self.jobs.get(job_id).status in FINAL_STATUSES):
            return self.jobs.get(job_id)
        with self.jobs.db.session_lock(f"jimoku-job:{job_id}") as mine:
            return self._apply(job_id, recorded.decision) if mine else self.jobs.get(job_id)

    def apply_pending_decisions(self) -> list[JobRow]:
        """Apply the decisions a stopped process recorded but did not apply."""
        return [self.apply_recorded_decision(d.job_id) for d in self.jobs.unapplied_decisions()]

    def _apply(self, job_id: str, decision: dict[str, Any]) -> JobRow:
        config = _config(job_id)
        snapshot = self.graph.get_state(config)
        # An error here (e.g. the database went away) propagates and leaves the decision unapplied:
        # the next start, or the workers' sweep, applies it again.
        if snapshot.interrupts:
            self.graph.invoke(Command(resume=decision), config, context=self._context(job_id))
        elif _unfinished(snapshot):  # a resume cut short: go on from its last checkpoint
            self.graph.invoke(None, config, context=self._context(job_id))
        job = self._settle(job_id)
        # Marked last: a kill before this re-applies it on the next start, which only re-settles.
        self.jobs.mark_applied(job_id)
        return job

    def _context(self, job_id: str) -> GraphContext:
        """The run's context, saying `finalized` only once per job (finalize may run again after a
        kill between its event and its checkpoint)."""
        ctx = self.context()
        emit, log_ = ctx.emit, EventLog(self.jobs.db)

        def once(jid: str, event: str, data: dict[str, Any]) -> None:
            if event == Event.FINALIZED and log_.has(jid, Event.FINALIZED):
                return
            emit(jid, event, data)

        return dataclasses.replace(ctx, emit=once)

    def _settle(self, job_id: str) -> JobRow:
        """Write where the graph stopped: waiting for a person, or ended."""
        snapshot = self.graph.get_state(_config(job_id))
        if snapshot.interrupts:
            self.jobs.set_status(job_id, "awaiting_review")
            values = snapshot.values
            self.emit(job_id, Event.AWAITING_REVIEW, {"status": "awaiting_review", "flags": values.get("flags", []),
                                                      "confidence": values.get("confidence")})
        elif not _unfinished(snapshot):
            was = self.jobs.get(job_id).status
            self.jobs.set_status(job_id, snapshot.values.get("status", "failed"))
            if was not in FINAL_STATUSES:  # settled again after a kill: the outcome is kept already
                self.finished(job_id)
        return self.jobs.get(job_id)

    def recover(self) -> list[JobRow]:
        """Continue every job a previous process left queued or running (one-shot, the CLI)."""
        self.apply_pending_decisions()
        pending = self.jobs.list(status="running", limit=10_000) + self.jobs.list(status="queued", limit=10_000)
        return [self.run(job.id) for job in pending]
