"""The job table: one row per job, so that none is lost and each has a clear status.

The graph's own state lives in the LangGraph checkpointer (same SQLite file); this
table is the index a person (or the worker, after a restart) reads: what exists, in what
state, and why it failed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "awaiting_review", "approved", "rejected", "failed")
FINAL = ("approved", "rejected", "failed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class JobRow:
    """One job's index entry."""

    id: str
    status: str
    question: str
    files: list[dict[str, Any]]
    auto_approve: bool
    attempts: int
    error: str | None
    created_at: str
    updated_at: str


class JobStore:
    """Jobs in SQLite (WAL; safe across threads of one process and across processes)."""

    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            """CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY, status TEXT NOT NULL, question TEXT NOT NULL,
                files TEXT NOT NULL, auto_approve INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""
        )
        self._conn.execute("CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at)")
        self._lock = threading.Lock()

    def create(self, question: str, files: list[dict[str, Any]], auto_approve: bool) -> JobRow:
        """Record a new queued job (before anything runs, so it cannot be lost)."""
        job_id = uuid.uuid4().hex[:12]
        at = _now()
        with self._lock:
            self._conn.execute(
                "INSERT INTO jobs (id, status, question, files, auto_approve, created_at, updated_at) "
                "VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                (job_id, question, json.dumps(files, ensure_ascii=False), int(auto_approve), at, at),
            )
        return self.get(job_id)

    def get(self, job_id: str) -> JobRow:
        """The job, or KeyError."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return _row(row)

    def set_status(self, job_id: str, status: str, *, error: str | None = None, count_attempt: bool = False) -> None:
        """Move a job to `status` (with a reason when it failed)."""
        assert status in STATUSES, status
        with self._lock:
            self._conn.execute(
                "UPDATE jobs SET status = ?, error = ?, updated_at = ?, attempts = attempts + ? WHERE id = ?",
                (status, error, _now(), int(count_attempt), job_id),
            )

    def list(self, *, status: str | None = None, limit: int = 100) -> list[JobRow]:
        """Jobs, oldest first, optionally of one status."""
        query, args = "SELECT * FROM jobs", []
        if status:
            query += " WHERE status = ?"
            args.append(status)
        query += " ORDER BY created_at LIMIT ?"
        with self._lock:
            rows = self._conn.execute(query, (*args, limit)).fetchall()
        return [_row(r) for r in rows]


def _row(r: tuple[Any, ...]) -> JobRow:
    return JobRow(id=r[0], status=r[1], question=r[2], files=json.loads(r[3]), auto_approve=bool(r[4]),
                  attempts=r[5], error=r[6], created_at=r[7], updated_at=r[8])
