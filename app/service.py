"""Everything one running service holds, built at start-up and closed at shutdown.

This is where the service chooses its job queue, once: procrastinate when the settings
name a PostgreSQL database (`jimoku worker` processes run the jobs), else threads in
this process over the SQLite file.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.engine import Engine, QueueFactory
from app.events import EventBus
from app.inprocess import InProcessQueue
from app.limits import RateLimiter
from app.metrics import Metrics
from app.settings import Settings
from app.store.keys import KeyStore

log = logging.getLogger(__name__)


def service_queue(settings: Settings) -> QueueFactory:
    """The queue the service hands its jobs to."""
    if settings.database_url:
        from app.queue import ProcrastinateQueue, make_app

        app = make_app(settings.database_url)
        return lambda engine: ProcrastinateQueue(app.open(), results=engine.cache)
    return lambda engine: InProcessQueue(engine.runner, workers=settings.workers)


@dataclass
class Service:
    """The engine (with its queue), keys, events and metrics."""

    settings: Settings
    engine: Engine
    keys: KeyStore
    events: EventBus
    metrics: Metrics
    rate_limiter: RateLimiter
    ready: threading.Event = field(default_factory=threading.Event)
    warm_up_report: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Service:
        """Wire the parts (no thread is started yet)."""
        events = EventBus()
        engine = Engine(settings, emit=events.emit, queue=service_queue(settings))
        if engine.queue.runs_jobs_here:
            metrics = Metrics(engine.jobs)
            events.listen(metrics.on_event)
        else:  # the workers' events are read from the log at scrape time
            metrics = Metrics(engine.jobs, log=engine.events)
        return cls(settings=settings, engine=engine, keys=engine.stores.keys, events=events, metrics=metrics,
                   rate_limiter=RateLimiter(settings.rate_limit_per_minute))

    def start(self) -> None:
        """Start the queue's workers, and warm the models up in the background (see /readyz)."""
        self.engine.queue.start()
        threading.Thread(target=self._warm_up, name="warm-up", daemon=True).start()

    def stop(self) -> None:
        """Stop taking new jobs."""
        self.engine.queue.close()

    def _warm_up(self) -> None:
        if not self.settings.warm_up:
            self.ready.set()
            return
        steps: dict[str, Callable[[], object]] = {}
        if self.engine.queue.runs_jobs_here:  # otherwise the planner runs in `jimoku worker`
            steps["planner"] = self.engine.llm.load
        for spec in self.engine.registry:
            if spec.warm_up is not None:  # declared on @tool
                steps[spec.name] = functools.partial(spec.warm_up, self.engine.tool_ctx)
        for name, load in steps.items():
            started = time.perf_counter()
            try:
                load()
                self.warm_up_report[name] = f"ok in {time.perf_counter() - started:.1f} s"
            except Exception as exc:  # reported by /readyz; jobs using it will fail with the reason
                log.exception("warm-up of %s failed", name)
                self.warm_up_report[name] = f"failed: {type(exc).__name__}: {exc}"
        self.ready.set()
