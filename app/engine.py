"""Wires the graph to storage: submit a job, run it, resume it after review or a crash.

Used in-process by the CLI (and by the service's workers): route/CLI → job store →
engine.run → graph nodes → tools, and back through the store.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.types import Command

from app.settings import Settings
from app.store.jobs import JobRow
from app.store.stores import open_stores
from app.tooling import load_registry
from graphs.cache import SingleFlight
from graphs.context import EventSink, GraphContext
from graphs.contract import FINAL_STATUSES as FINAL
from graphs.contract import now as utcnow
from graphs.graph import build_graph
from graphs.llm import ChatModel, LlamaChatModel, LlamaConfig
from graphs.state import Attachment
from tools import models
from tools.errors import ToolInputError
from tools.files import sniff_kind
from tools.validate import validate_file

if TYPE_CHECKING:
    from app.queue import JobQueue

log = logging.getLogger(__name__)


class JobRejected(ValueError):
    """The request cannot become a job (bad question or files); nothing was stored."""


class Engine:
    """One per process: the job store, artifacts, checkpointer, graph and (lazily) the LLM."""

    def __init__(self, settings: Settings, *, llm: ChatModel | None = None, emit: EventSink | None = None,
                 queue: JobQueue | None = None) -> None:
        self.settings = settings
        self.stores = open_stores(settings)
        self.db = self.stores.db
        self.distributed = self.db.dialect == "postgres"
        """PostgreSQL: jobs run on `jimoku worker` processes (procrastinate), on any machine."""
        self.queue = queue
        self.jobs = self.stores.jobs
        self.artifacts = self.stores.artifacts
        self.graph = build_graph(self.stores.checkpointer)
        self.cache = self.stores.results
        self.policies = self.stores.policies
        self.outcomes = self.stores.outcomes
        self.events = self.stores.events
        self.registry = load_registry(settings)
        self.tool_ctx = settings.tool_context()
        self._llm = llm
        self._emit = emit
        self._single_flight = SingleFlight()
        self._running: set[str] = set()
        self._running_lock = threading.Lock()

    def close(self) -> None:
        """Release database connections (tests make many engines)."""
        self.stores.close()

    def emit(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        """Write a job's progress to the event log, then tell this process's listeners (SSE, metrics)."""
        self.events.append(job_id, event, data)
        if self._emit is not None:
            self._emit(job_id, event, data)

    @cached_property
    def llm(self) -> ChatModel:
        """The planner model, loaded on first use."""
        if self._llm is not None:
            return self._llm
        s = self.settings
        if s.planner_factory:
            module, _, name = s.planner_factory.partition(":")
            return getattr(importlib.import_module(module), name)(s)  # type: ignore[no-any-return]
        path = s.planner_model or models.ensure("planner", s.model_dir)
        return LlamaChatModel(LlamaConfig(path=path, chat_format=s.planner_chat_format,
                                          n_ctx=s.planner_context, n_threads=s.planner_threads))

    def context(self) -> GraphContext:
        """The runtime context every node gets."""
        return GraphContext(llm=self.llm, registry=self.registry, tool_ctx=self.tool_ctx, cache=self.cache,
                            single_flight=self._single_flight, policy=self.policies.current, emit=self.emit,
                            artifact_path=lambda a: self.artifacts.local_path(a["sha256"]),
                            run_elsewhere=self.queue.run_elsewhere if self.queue else None)

    def submit(self, question: str, files: Sequence[tuple[Path, str]], *, auto_approve: bool = False,
               submitted_by: str | None = None, submitter_key: str | None = None) -> JobRow:
        """Validate and store the inputs, record a queued job. Raises `JobRejected`."""
        question = (question or "").strip()
        if not question:
            raise JobRejected("the question is empty; ask what you want to know about the files")
        if len(question) > self.settings.max_question_chars:
            raise JobRejected(f"the question is {len(question)} characters; the limit is {self.settings.max_question_chars}")
        if not files:
            raise JobRejected("attach at least one file (a photo, a PDF or a voice memo)")
        if len(files) > self.settings.max_files:
            raise JobRejected(f"{len(files)} files attached; the limit is {self.settings.max_files}")
        attachments: list[Attachment] = []
        for i, (path, name) in enumerate(files, start=1):
            try:
                kind = sniff_kind(path)
                validate_file(path, kind, self.tool_ctx)
            except ToolInputError as exc:
                raise JobRejected(f"file {i} ({name}): {exc}") from None
            sha, stored = self.artifacts.put(path)
            attachments.append(Attachment(id=f"f{i}", name=name, kind=kind.value, sha256=sha, path=str(stored)))
        job = self.jobs.create(question, list(attachments), auto_approve, submitted_by, submitter_key)
        self.emit(job.id, "queued", {"status": "queued"})
        if self.queue is not None:
            try:
                self.queue.defer_job(job.id)
            except Exception:  # the job is stored: accepted; a worker's sweep queues it later
                log.exception("job %s stored but not queued; the workers' sweep will queue it", job.id)
        return job

    def _config(self, job_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": job_id}}

    def run(self, job_id: str) -> JobRow:
        """Run (or continue) a job until it waits for review or ends. Never raises for the job's own failure.

        A job already running in this process is not started a second time.
        """
        with self._running_lock:
            if job_id in self._running:
                return self.jobs.get(job_id)
            self._running.add(job_id)
        try:
            with self._exclusive(job_id) as mine:
                return self._run(job_id) if mine else self.jobs.get(job_id)
        finally:
            with self._running_lock:
                self._running.discard(job_id)

    @contextmanager
    def _exclusive(self, job_id: str) -> Iterator[bool]:
        """Across machines, one process at a time works on a job (a PostgreSQL advisory lock,
        freed by the server if the process dies); on one machine the in-process set suffices."""
        if not self.distributed:
            yield True
            return
        with self.db.session_lock(f"jimoku-job:{job_id}") as mine:  # type: ignore[attr-defined]
            yield mine

    def _run(self, job_id: str) -> JobRow:
        job = self.jobs.get(job_id)
        if job.status in FINAL or job.status == "awaiting_review":
            return job
        if job.attempts >= self.settings.max_attempts:
            return self._fail(job_id, (
                f"the worker stopped {job.attempts} times while running this job (crash or kill); "
                "it was not retried again. Check the logs, then submit it again"))
        self.jobs.set_status(job_id, "running", count_attempt=True)
        self.emit(job_id, "running", {"status": "running", "attempt": job.attempts + 1})
        config = self._config(job_id)
        started = bool(self.graph.get_state(config).values)
        payload: Any = None if started else {
            "job_id": job_id, "question": job.question, "files": job.files, "auto_approve": job.auto_approve,
        }
        try:
            self.graph.invoke(payload, config, context=self.context())
        except Exception as exc:  # the job fails with a reason; the process stays up
            log.exception("job %s failed", job_id)
            return self._fail(job_id, f"{type(exc).__name__}: {exc}")
        return self._sync_status(job_id)

    def _fail(self, job_id: str, reason: str) -> JobRow:
        self.jobs.set_status(job_id, "failed", error=reason)
        self.emit(job_id, "failed", {"status": "failed", "error": reason})
        return self.jobs.get(job_id)

    def review(self, job_id: str, decision: dict[str, Any]) -> JobRow:
        """Record a reviewer's decision (once: a second is a `Conflict`), then apply it."""
        from graphs.nodes import validate_decision

        try:
            validate_decision(decision)
        except ValueError as exc:
            raise JobRejected(str(exc)) from None
        self.jobs.record_decision(job_id, decision)
        if self.queue is not None:  # a worker resumes the graph; the decision is safe in the database
            try:
                self.queue.defer_decision(job_id)
            except Exception:  # recorded: a worker's sweep queues it later
                log.exception("decision on job %s recorded but not queued; the workers' sweep will queue it", job_id)
            return self._wait_applied(job_id, self.settings.review_apply_wait_seconds)
        return self._apply_decision(job_id, decision)

    def _wait_applied(self, job_id: str, seconds: float) -> JobRow:
        """The job once a worker has applied its decision, or as it stands after `seconds`
        (the decision is recorded either way and will be applied)."""
        deadline = time.monotonic() + seconds
        while (job := self.jobs.get(job_id)).status == "awaiting_review" and time.monotonic() < deadline:
            time.sleep(0.1)
        return job

    def apply_recorded_decision(self, job_id: str) -> JobRow:
        """Apply the decision recorded on a job, if it is not applied yet (a worker's task)."""
        recorded = self.jobs.decision(job_id)
        if recorded is None or recorded.applied:
            return self.jobs.get(job_id)
        with self._exclusive(job_id) as mine:
            return self._apply_decision(job_id, recorded.decision) if mine else self.jobs.get(job_id)

    def _apply_decision(self, job_id: str, decision: dict[str, Any]) -> JobRow:
        config = self._config(job_id)
        # Applied already if the process died after resuming but before marking it.
        if self.graph.get_state(config).interrupts:
            self.graph.invoke(Command(resume=decision), config, context=self.context())
        self.jobs.mark_applied(job_id)
        return self._sync_status(job_id)

    def state(self, job_id: str) -> dict[str, Any]:
        """The graph state of a job (plan, steps, draft, flags, …)."""
        return dict(self.graph.get_state(self._config(job_id)).values)

    def document(self, job_id: str) -> dict[str, Any]:
        """The job as one JSON document: the index row plus the graph state."""
        job = self.jobs.get(job_id)
        state = self.state(job_id)
        return {
            "id": job.id, "status": job.status, "error": job.error, "question": job.question,
            "files": [{k: f[k] for k in ("id", "name", "kind", "sha256")} for f in job.files],
            "plan": state.get("plan", []), "plan_notes": state.get("plan_notes", []),
            "steps": state.get("steps", []), "facts": state.get("facts", []),
            "draft_answer": state.get("draft_answer"), "citations": state.get("citations", []),
            "final_answer": state.get("final_answer"), "flags": state.get("flags", []),
            "confidence": state.get("confidence"), "confidence_explained": state.get("confidence_explained"),
            "review": state.get("review"), "routing": state.get("routing"), "timestamps": state.get("timestamps", {}),
            "created_at": job.created_at, "updated_at": job.updated_at, "submitted_by": job.submitted_by,
            "claimed_by": job.claimed_by, "claimed_until": job.claimed_until,
        }

    def _sync_status(self, job_id: str) -> JobRow:
        snapshot = self.graph.get_state(self._config(job_id))
        if snapshot.interrupts:
            self.jobs.set_status(job_id, "awaiting_review")
            values = snapshot.values
            self.emit(job_id, "awaiting_review", {"status": "awaiting_review", "flags": values.get("flags", []),
                                                   "confidence": values.get("confidence")})
        elif not snapshot.next:
            self.jobs.set_status(job_id, snapshot.values.get("status", "failed"))
            self._record_outcome(job_id)
        return self.jobs.get(job_id)

    def _record_outcome(self, job_id: str) -> None:
        """Keep the finished job in the history; an audit the reviewer disagreed with pauses
        automation for that kind of case."""
        doc = self.document(job_id)
        job = self.jobs.get(job_id)
        self.outcomes.record(doc, awaiting_since=job.awaiting_since, finished_at=utcnow())
        routing, review = doc.get("routing") or {}, doc.get("review") or {}
        if routing.get("audit") and review.get("decision") in ("edit", "reject"):
            kind = routing.get("case_kind", "none")
            version = self.policies.pause(
                kind, f"audit of job {job_id} was {review['decision']}ed by {review.get('reviewer')}")
            log.warning("automation paused for %s (policy v%d) after audit of job %s", kind, version, job_id)

    def apply_pending_decisions(self) -> list[JobRow]:
        """Apply decisions a stopped process recorded but did not apply."""
        return [self._apply_decision(d.job_id, d.decision) for d in self.jobs.unapplied_decisions()]

    def recover(self) -> list[JobRow]:
        """Continue every job a previous process left queued or running (one-shot, CLI)."""
        self.apply_pending_decisions()
        pending = self.jobs.list(status="running", limit=10_000) + self.jobs.list(status="queued", limit=10_000)
        return [self.run(job.id) for job in pending]
