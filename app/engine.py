"""Wires the graph to storage: submit a job, run it, resume it after review or a crash.

Used in-process by the CLI (and by the service's workers): route/CLI → job store →
engine.run → graph nodes → tools, and back through the store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from langgraph.types import Command

from app.artifacts import ArtifactStore
from app.jobs import FINAL, JobRow, JobStore
from app.settings import Settings
from app.tooling import load_registry
from graphs.cache import SqliteResultCache
from graphs.context import EventSink, GraphContext
from graphs.graph import build_graph, sqlite_checkpointer
from graphs.llm import ChatModel, LlamaChatModel, LlamaConfig
from graphs.state import Attachment
from tools import models
from tools.errors import ToolInputError
from tools.files import sniff_kind

log = logging.getLogger(__name__)


class JobRejected(ValueError):
    """The request cannot become a job (bad question or files); nothing was stored."""


class JobStateError(RuntimeError):
    """The job is not in a state that allows this action (e.g. reviewing a finished job)."""


class Engine:
    """One per process: the job store, artifacts, checkpointer, graph and (lazily) the LLM."""

    def __init__(self, settings: Settings, *, llm: ChatModel | None = None, emit: EventSink | None = None) -> None:
        self.settings = settings
        db = settings.data_dir / "jimoku.db"
        self.jobs = JobStore(db)
        self.artifacts = ArtifactStore(settings.data_dir / "artifacts")
        self.graph = build_graph(sqlite_checkpointer(db))
        self.cache = SqliteResultCache(db)
        self.registry = load_registry(settings)
        self.tool_ctx = settings.tool_context()
        self._llm = llm
        self._emit = emit

    @cached_property
    def llm(self) -> ChatModel:
        """The planner model, loaded on first use."""
        if self._llm is not None:
            return self._llm
        s = self.settings
        path = s.planner_model or models.ensure("planner", s.model_dir)
        return LlamaChatModel(LlamaConfig(path=path, chat_format=s.planner_chat_format,
                                          n_ctx=s.planner_context, n_threads=s.planner_threads))

    def context(self) -> GraphContext:
        """The runtime context every node gets."""
        ctx = GraphContext(llm=self.llm, registry=self.registry, tool_ctx=self.tool_ctx, cache=self.cache)
        if self._emit is not None:
            ctx.emit = self._emit
        return ctx

    def submit(self, question: str, files: Sequence[tuple[Path, str]], *, auto_approve: bool = False) -> JobRow:
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
            except ToolInputError as exc:
                raise JobRejected(str(exc)) from None
            sha, stored = self.artifacts.put(path)
            attachments.append(Attachment(id=f"f{i}", name=name, kind=kind.value, sha256=sha, path=str(stored)))
        return self.jobs.create(question, list(attachments), auto_approve)

    def _config(self, job_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": job_id}}

    def run(self, job_id: str) -> JobRow:
        """Run (or continue) a job until it waits for review or ends. Never raises for the job's own failure."""
        job = self.jobs.get(job_id)
        if job.status in FINAL or job.status == "awaiting_review":
            return job
        if job.attempts >= self.settings.max_attempts:
            self.jobs.set_status(job_id, "failed", error=(
                f"the worker stopped {job.attempts} times while running this job (crash or kill); "
                "it was not retried again. Check the logs, then submit it again"))
            return self.jobs.get(job_id)
        self.jobs.set_status(job_id, "running", count_attempt=True)
        config = self._config(job_id)
        started = bool(self.graph.get_state(config).values)
        payload: Any = None if started else {
            "job_id": job_id, "question": job.question, "files": job.files, "auto_approve": job.auto_approve,
        }
        try:
            self.graph.invoke(payload, config, context=self.context())
        except Exception as exc:  # the job fails with a reason; the process stays up
            log.exception("job %s failed", job_id)
            self.jobs.set_status(job_id, "failed", error=f"{type(exc).__name__}: {exc}")
            return self.jobs.get(job_id)
        return self._sync_status(job_id)

    def review(self, job_id: str, decision: dict[str, Any]) -> JobRow:
        """Resume a job waiting for review with the reviewer's decision."""
        from graphs.nodes import validate_decision

        job = self.jobs.get(job_id)
        if job.status != "awaiting_review":
            raise JobStateError(f"job {job_id} is {job.status}, not awaiting review")
        try:
            validate_decision(decision)
        except ValueError as exc:
            raise JobRejected(str(exc)) from None
        self.graph.invoke(Command(resume=decision), self._config(job_id), context=self.context())
        return self._sync_status(job_id)

    def state(self, job_id: str) -> dict[str, Any]:
        """The graph state of a job (plan, steps, draft, flags, …)."""
        return dict(self.graph.get_state(self._config(job_id)).values)

    def _sync_status(self, job_id: str) -> JobRow:
        snapshot = self.graph.get_state(self._config(job_id))
        if snapshot.interrupts:
            self.jobs.set_status(job_id, "awaiting_review")
        elif not snapshot.next:
            self.jobs.set_status(job_id, snapshot.values.get("status", "failed"))
        return self.jobs.get(job_id)

    def recover(self) -> list[JobRow]:
        """Continue every job a previous process left queued or running."""
        pending = self.jobs.list(status="running") + self.jobs.list(status="queued")
        return [self.run(job.id) for job in pending]
