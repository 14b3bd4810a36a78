"""The event log: every job's progress, kept in the database (the audit log).

Every event is a row in `job_events` (job, event, data, which worker, when), so a job's
history survives restarts and is readable from any API process, whichever worker or
machine ran the job. SSE streams and the metrics of an API without local workers read it.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from app.store.db import Database
from graphs.contract import Event, now

EventRecord = dict[str, Any]
"""`{"event": name, "data": {...}}` (plus `seq`, `worker`, `at` when read back from the log)."""
TERMINAL = frozenset({Event.FINALIZED, Event.FAILED, Event.CANCELLED})
"""After one of these a job's stream has nothing more to say."""
WORKER = f"{socket.gethostname()}:{os.getpid()}"
"""Who wrote an event: host and process, so the audit log says where each step ran."""


class EventLog:
    """The `job_events` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, job_id: str, event: str, data: dict[str, Any]) -> None:
        """Write one event of a job (its data as JSON)."""
        self.db.write("INSERT INTO job_events (job_id, event, data, worker, at) VALUES (?, ?, ?, ?, ?)",
                      (job_id, str(event), json.dumps(data, ensure_ascii=False, default=str), WORKER, now()))

    def since(self, job_id: str, after: int = 0) -> list[EventRecord]:
        """The job's events with an id above `after`, oldest first."""
        rows = self.db.all("SELECT id, event, data, worker, at FROM job_events WHERE job_id = ? AND id > ? "
                           "ORDER BY id", (job_id, after))
        return [{"seq": r[0], "event": r[1], "data": json.loads(r[2]), "worker": r[3], "at": r[4]} for r in rows]

    def tail(self, after: int, limit: int = 10_000) -> list[tuple[int, str, EventRecord]]:
        """Every job's events with an id above `after`: (id, job id, event), oldest first."""
        rows = self.db.all("SELECT id, job_id, event, data FROM job_events WHERE id > ? ORDER BY id LIMIT ?",
                           (after, limit))
        return [(r[0], r[1], {"event": r[2], "data": json.loads(r[3])}) for r in rows]

    def has(self, job_id: str, event: str) -> bool:
        """True when the job's log holds `event` (a step re-run after a kill must not say it twice)."""
        return self.db.one("SELECT 1 FROM job_events WHERE job_id = ? AND event = ? LIMIT 1",
                           (job_id, str(event))) is not None

    def last_id(self) -> int:
        """The id of the newest event (0 when there is none)."""
        row = self.db.one("SELECT COALESCE(MAX(id), 0) FROM job_events")
        return int(row[0]) if row else 0
