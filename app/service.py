"""Everything one running service holds, built at start-up and closed at shutdown."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.engine import Engine
from app.events import EventBus
from app.limits import RateLimiter
from app.metrics import Metrics
from app.settings import Settings
from app.store.keys import KeyStore
from app.worker import WorkerPool


@dataclass
class Service:
    """The engine, its worker pool, keys, events and metrics."""

    settings: Settings
    engine: Engine
    keys: KeyStore
    events: EventBus
    metrics: Metrics
    workers: WorkerPool
    rate_limiter: RateLimiter
    ready: threading.Event = field(default_factory=threading.Event)
    warm_up_report: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Service:
        """Wire the parts (no thread is started yet)."""
        events = EventBus()
        queue = None
        if settings.database_url:  # jobs go to `jimoku worker` processes through procrastinate
            from app.queue import JobQueue, make_app

            queue = JobQueue(make_app(settings.database_url).open())
        engine = Engine(settings, emit=events.emit, queue=queue)
        metrics = Metrics(engine.jobs)
        if engine.distributed:
            metrics.catch_up(engine.events)  # from now on, read from the log at scrape time
        else:
            events.listen(metrics.on_event)
        return cls(
            settings=settings,
            engine=engine,
            keys=KeyStore(engine.db),
            events=events,
            metrics=metrics,
            workers=WorkerPool(engine, workers=0 if engine.distributed else settings.workers),
            rate_limiter=RateLimiter(settings.rate_limit_per_minute),
        )

    def start(self) -> None:
        """Start the workers, and warm the models up in the background (see /readyz)."""
        self.workers.start()
        threading.Thread(target=self._warm_up, name="warm-up", daemon=True).start()

    def stop(self) -> None:
        """Stop taking new jobs."""
        self.workers.stop()

    def _warm_up(self) -> None:
        if not self.settings.warm_up:
            self.ready.set()
            return
        steps: dict[str, Callable[[], object]] = {}
        if not self.engine.distributed:  # with PostgreSQL the planner runs in `jimoku worker`
            steps["planner"] = lambda: self.engine.llm.load()  # type: ignore[attr-defined]
        for spec in self.engine.registry:
            hook = getattr(__import__(spec.func.__module__, fromlist=["_"]), "warm_up", None)
            if callable(hook):
                steps[spec.name] = lambda hook=hook: hook(self.engine.tool_ctx)
        for name, load in steps.items():
            started = time.perf_counter()
            try:
                load()
                self.warm_up_report[name] = f"ok in {time.perf_counter() - started:.1f} s"
            except Exception as exc:  # reported by /readyz; jobs using it will fail with the reason
                log.exception("warm-up of %s failed", name)
                self.warm_up_report[name] = f"failed: {type(exc).__name__}: {exc}"
        self.ready.set()


log = logging.getLogger(__name__)
