"""Job progress events, for SSE streams and metrics, from worker threads to the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
TERMINAL = {"finalized", "failed"}


class EventBus:
    """Keeps each job's recent events and hands new ones to subscribers.

    `emit` is called from worker threads; subscribers are asyncio queues, fed with
    `call_soon_threadsafe`. Listeners (plain callables) see every event, e.g. metrics.
    """

    def __init__(self, history: int = 200, jobs: int = 2000) -> None:
        # Only the most recent `jobs` jobs keep their events, so a service that runs for
        # months does not grow without bound; an older job's stream starts from its status.
        self._history: OrderedDict[str, deque[Event]] = OrderedDict()
        self._history_len = history
        self._history_jobs = jobs
        self._subscribers: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]]] = defaultdict(list)
        self._listeners: list[Callable[[str, Event], None]] = []
        self._lock = threading.Lock()
        self._seq = 0

    def listen(self, listener: Callable[[str, Event], None]) -> None:
        """Call `listener(job_id, event)` for every event."""
        self._listeners.append(listener)

    def emit(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        """Record and deliver one event."""
        with self._lock:
            self._seq += 1
            item: Event = {"seq": self._seq, "event": event, "data": data}
            if job_id not in self._history:
                self._history[job_id] = deque(maxlen=self._history_len)
                while len(self._history) > self._history_jobs:
                    self._history.popitem(last=False)
            self._history[job_id].append(item)
            subscribers = list(self._subscribers.get(job_id, ()))
        for loop, queue in subscribers:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        for listener in self._listeners:
            listener(job_id, item)

    def subscribe(self, job_id: str) -> tuple[list[Event], asyncio.Queue[Event]]:
        """(events so far, queue of the ones to come); call from the event loop."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        with self._lock:
            past = list(self._history.get(job_id, ()))
            self._subscribers[job_id].append((asyncio.get_running_loop(), queue))
        return past, queue

    def unsubscribe(self, job_id: str, queue: asyncio.Queue[Event]) -> None:
        """Stop delivering to `queue`."""
        with self._lock:
            self._subscribers[job_id] = [(lp, q) for lp, q in self._subscribers.get(job_id, []) if q is not queue]
            if not self._subscribers[job_id]:
                del self._subscribers[job_id]
