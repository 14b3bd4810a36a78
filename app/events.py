"""Job progress events: kept in the database (the audit log), and pushed to listeners.

Every event is a row in `job_events` (job, event, data, which worker, when), so a job's
history survives restarts and is readable from any API process, whichever worker or
machine ran the job. SSE streams read that table; inside one process they are also woken
at once by `EventBus`, and across machines they poll it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from app.db import Database
from app.jobs import utcnow

Event = dict[str, Any]
TERMINAL = {"finalized", "failed"}
WORKER = f"{socket.gethostname()}:{os.getpid()}"
"""Who wrote an event: host and process, so the audit log says where each step ran."""


class EventLog:
    """The `job_events` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        self.db.write("INSERT INTO job_events (job_id, event, data, worker, at) VALUES (?, ?, ?, ?, ?)",
                      (job_id, event, json.dumps(data, ensure_ascii=False, default=str), WORKER, utcnow()))

    def since(self, job_id: str, after: int = 0) -> list[Event]:
        """The job's events with an id above `after`, oldest first."""
        rows = self.db.all("SELECT id, event, data, worker, at FROM job_events WHERE job_id = ? AND id > ? "
                           "ORDER BY id", (job_id, after))
        return [{"seq": r[0], "event": r[1], "data": json.loads(r[2]), "worker": r[3], "at": r[4]} for r in rows]

    def tail(self, after: int, limit: int = 10_000) -> list[tuple[int, str, Event]]:
        """Every job's events with an id above `after`: (id, job id, event), oldest first."""
        rows = self.db.all("SELECT id, job_id, event, data FROM job_events WHERE id > ? ORDER BY id LIMIT ?",
                           (after, limit))
        return [(r[0], r[1], {"event": r[2], "data": json.loads(r[3])}) for r in rows]

    def last_id(self) -> int:
        row = self.db.one("SELECT COALESCE(MAX(id), 0) FROM job_events")
        return int(row[0]) if row else 0


class EventBus:
    """Hands each event to listeners (metrics) and wakes SSE streams of this process.

    `emit` is called from worker threads; subscribers are asyncio queues, fed with
    `call_soon_threadsafe`.
    """

    def __init__(self) -> None:
        self._subscribers: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]]] = defaultdict(list)
        self._listeners: list[Callable[[str, Event], None]] = []
        self._lock = threading.Lock()

    def listen(self, listener: Callable[[str, Event], None]) -> None:
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
