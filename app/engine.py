"""The engine: one process's parts, composed. Intake, runner and review over the stores,
the graph and a job queue.

A submitted job goes: route/CLI → `Intake.submit` (validate, store, queue) → the queue
→ `Runner.run` (graph: plan, execute, draft, check, route, review) → waiting for a
person → `Reviews.decide` (record, queue) → `Runner.apply_recorded_decision` (graph:
review, finalize) → `Reviews.record_outcome`. Which queue is decided by whoever builds
the engine (the service, `jimoku worker`); the default runs everything in the caller's
process, as the CLI does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from app.document import job_document
from app.errors import JobRejected
from app.inprocess import InProcessQueue
from app.intake import Intake
from app.jobqueue import JobQueue
from app.review import Reviews
from app.runner import Runner
from app.settings import Settings
from app.store.stores import open_stores
from app.tooling import load_registry
from graphs.cache import SingleFlight
from graphs.context import EventSink, GraphContext
from graphs.graph import build_graph
from graphs.llm import ChatModel, load_chat_model

__all__ = ["Engine", "JobRejected", "QueueFactory", "inline_queue", "load_llm"]
"""`JobRejected` is what `submit` and `review` raise (defined in `app.errors`)."""

QueueFactory = Callable[["Engine"], JobQueue]
"""Builds the queue once the engine's runner and stores exist."""


def inline_queue(engine: Engine) -> JobQueue:
    """No worker threads: whoever submits runs the job (the CLI, tests); decisions apply at once."""
    return InProcessQueue(engine.runner, workers=0)


def load_llm(settings: Settings) -> ChatModel:
    """The planner the settings name (`graphs.llm.load_chat_model`; a factory gets the settings)."""
    return load_chat_model(factory=settings.planner_factory, factory_arg=settings, path=settings.planner_model,
                           model_dir=settings.model_dir, chat_format=settings.planner_chat_format,
                           n_ctx=settings.planner_context, n_threads=settings.planner_threads,
                           flash_attn=settings.planner_flash_attn,
                           prefix_dir=settings.model_dir / "prefix-state" if settings.planner_prefix_cache else None)


class Engine:
    """One per process: the stores, the graph, the tools, the planner (loaded on first use), the
    queue, and intake, runner and review built over them."""

    def __init__(self, settings: Settings, *, llm: ChatModel | None = None, emit: EventSink | None = None,
                 queue: QueueFactory = inline_queue) -> None:
        self.settings = settings
        self.stores = open_stores(settings)
        self.db, self.jobs, self.artifacts = self.stores.db, self.stores.jobs, self.stores.artifacts
        self.policies, self.outcomes, self.events = self.stores.policies, self.stores.outcomes, self.stores.events
        self.cache = self.stores.results
        self.graph = build_graph(self.stores.checkpointer)
        self.registry = load_registry(settings)
        self.tool_ctx = settings.tool_context()
        self.single_flight = SingleFlight()
        self._llm = llm
        self._listener = emit
        self.runner = Runner(settings, jobs=self.jobs, graph=self.graph, emit=self.emit, context=self.context,
                             finished=lambda job_id: self.reviews.record_outcome(job_id))
        self.queue = queue(self)
        self.intake = Intake(settings, tool_ctx=self.tool_ctx, artifacts=self.artifacts, jobs=self.jobs,
                             emit=self.emit, queue=self.queue)
        self.reviews = Reviews(jobs=self.jobs, outcomes=self.outcomes, policies=self.policies, queue=self.queue,
                               document=self.document, apply_wait_seconds=settings.review_apply_wait_seconds)
        # The engine's verbs, as its callers (routes, CLI, tests) use them.
        self.submit = self.intake.submit
        self.run = self.runner.run
        self.review = self.reviews.decide
        self.state = self.runner.state
        self.recover = self.runner.recover
        self.apply_pending_decisions = self.runner.apply_pending_decisions

    def close(self) -> None:
        """Stop the queue and release database connections (tests make many engines)."""
        self.queue.close()
        self.stores.close()

    def emit(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        """Write a job's progress to the event log, then tell this process's listeners (SSE, metrics)."""
        self.events.append(job_id, event, data)
        if self._listener is not None:
            self._listener(job_id, event, data)

    @cached_property
    def llm(self) -> ChatModel:
        """The planner model, loaded on first use."""
        return self._llm if self._llm is not None else load_llm(self.settings)

    def artifact_path(self, attachment: dict[str, Any]) -> Path:
        """The local file of an attachment, found by its sha256 (fetched from the database first
        on a machine that lacks it)."""
        return self.artifacts.local_path(attachment["sha256"])

    def context(self) -> GraphContext:
        """The runtime context every node gets."""
        return GraphContext(llm=self.llm, registry=self.registry, tool_ctx=self.tool_ctx, cache=self.cache,
                            single_flight=self.single_flight, policy=self.policies.current, emit=self.emit,
                            artifact_path=self.artifact_path, run_elsewhere=self.queue.run_elsewhere,
                            max_rounds=self.settings.max_rounds, replan_budget_s=self.settings.replan_budget_seconds,
                            glance=self.settings.glance, alarm_floor=self.settings.alarm_floor,
                            extractive_answers=self.settings.extractive_answers,
                            field_plans=self.settings.field_plans,
                            alarm_classes=frozenset(c.strip() for c in self.settings.alarm_classes.split(",")
                                                    if c.strip()))

    def document(self, job_id: str) -> dict[str, Any]:
        """The job as one JSON document (`app.document.job_document`); KeyError when there is none."""
        job, state = self.jobs.get(job_id), self.runner.state(job_id)
        return job_document(job, state, self.reviews.approvals_view(job_id, state))
