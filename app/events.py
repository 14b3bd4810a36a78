"""Job progress events pushed to this process's listeners (SSE streams, metrics).

Every event is first a row of the event log (`app.store.event_log`), readable from any
API process whichever worker or machine ran the job; `EventBus` only wakes this
process's SSE streams at once and feeds its metrics. Across machines they read the log.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from app.store.event_log import EventRecord


class EventBus:
    """Hands each event to listeners (metrics) and wakes SSE streams of this process.

    `emit` is called from worker threads; subscribers are asyncio queues, fed with
    `call_soon_threadsafe`.
    """

    def __init__(self) -> None:
        self._subscribers: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]]] = defaultdict(list)
        self._listeners: list[Callable[[str, EventRecord], None]] = []
        self._lock = threading.Lock()

    def listen(self, listener: Callable[[str, EventRecord], None]) -> None:
        """Call `listener(job_id, event)` for every event emitted in this process."""
        self._listeners.append(listener)

    def emit(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        """Deliver one event (it is already in the log)."""
        with self._lock:
            subscribers = list(self._subscribers.get(job_id, ()))
        for loop, queue in subscribers:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        for listener in self._listeners:
            listener(job_id, {"event": event, "data": data})

    def subscribe(self, job_id: str) -> asyncio.Queue[str]:
        """A queue that gets the name of each new event of the job; call from the event loop."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        with self._lock:
            self._subscribers[job_id].append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, job_id: str, queue: asyncio.Queue[str]) -> None:
        """Stop delivering to `queue`."""
        with self._lock:
            self._subscribers[job_id] = [(lp, q) for lp, q in self._subscribers.get(job_id, []) if q is not queue]
            if not self._subscribers[job_id]:
                del self._subscribers[job_id]
