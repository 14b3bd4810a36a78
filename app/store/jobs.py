"""The job table: one row per job, so that none is lost and each has a clear status.

The graph's own state lives in the LangGraph checkpointer (same database); this
table is the index a person (or the worker, after a restart) reads: what exists, in what
state, who holds it for review, and why it failed. Reviewer decisions are written here
first (one row per job, so a second decision cannot be recorded) and then applied to
the graph; a decision recorded but not yet applied when the process died is applied on
the next start.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.errors import Conflict
from app.store.db import Database
from graphs.contract import STATUSES, JobStatus, now


@dataclass(frozen=True)
class JobRow:
    """One job's index entry."""

    id: str
    status: JobStatus
    question: str
    files: list[dict[str, Any]]
    auto_approve: bool
    attempts: int
    error: str | None
    created_at: str
    updated_at: str
    submitted_by: str | None
    claimed_by: str | None
    claimed_until: str | None
    awaiting_since: str | None
    submitter_key: str | None


@dataclass(frozen=True)
class DecisionRow:
    """A reviewer's decision on a job, as recorded."""

    job_id: str
    decision: dict[str, Any]
    applied: bool


class JobStore:
    """Jobs in SQLite (WAL; safe across threads and processes) or PostgreSQL (many machines)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- jobs -------------------------------------------------------------------------

    def create(self, question: str, files: Sequence[Mapping[str, Any]], auto_approve: bool,
               submitted_by: str | None = None, submitter_key: str | None = None) -> JobRow:
        """Record a new queued job (before anything runs, so it cannot be lost)."""
        job_id = uuid.uuid4().hex[:16]
        at = now()
        self.db.write(
            "INSERT INTO jobs (id, status, question, files, auto_approve, created_at, updated_at, submitted_by, "
            "submitter_key) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
            (job_id, question, json.dumps(files, ensure_ascii=False), int(auto_approve), at, at, submitted_by,
             submitter_key),
        )
        return self.get(job_id)

    def key_submitted(self, key_id: str, sha256: str) -> bool:
        """True when a job submitted with this key holds the artifact `sha256`."""
        row = self.db.one("SELECT 1 FROM jobs WHERE submitter_key = ? AND files LIKE ? LIMIT 1",
                        (key_id, f'%"sha256": "{sha256}"%'))
        return row is not None

    def get(self, job_id: str) -> JobRow:
        """The job, or KeyError."""
        row = self.db.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise KeyError(job_id)
        return _job(row)

    def set_status(self, job_id: str, status: JobStatus, *, error: str | None = None, count_attempt: bool = False) -> None:
        """Move a job to `status` (with a reason when it failed)."""
        assert status in STATUSES, status
        at = now()
        self.db.write(
            "UPDATE jobs SET status = ?, error = ?, updated_at = ?, attempts = attempts + ?, "
            "awaiting_since = CASE WHEN ? = 'awaiting_review' THEN COALESCE(awaiting_since, ?) ELSE awaiting_since END "
            "WHERE id = ?",
            (status, error, at, int(count_attempt), status, at, job_id),
        )

    def list(self, *, status: str | None = None, since: str | None = None, limit: int = 100,
             offset: int = 0, submitter_key: str | None = None) -> builtins.list[JobRow]:
        """Jobs, oldest first, optionally of one status, created at or after `since`, and
        submitted with the key `submitter_key` (a submitter's own jobs)."""
        where, args = _filters(status, since, submitter_key)
        query = f"SELECT * FROM jobs WHERE {where} ORDER BY created_at, id LIMIT ? OFFSET ?"
        return [_job(r) for r in self.db.all(query, (*args, limit, offset))]

    def count(self, *, status: str | None = None, since: str | None = None,
              submitter_key: str | None = None) -> int:
        """How many jobs `list` would return without paging."""
        where, args = _filters(status, since, submitter_key)
        row = self.db.one(f"SELECT COUNT(*) FROM jobs WHERE {where}", args)
        return int(row[0]) if row else 0

    def counts_by_status(self) -> dict[str, int]:
        """Number of jobs in each state (every state present, 0 when none)."""
        found = dict(self.db.all("SELECT status, COUNT(*) FROM jobs GROUP BY status"))
        return {s: int(found.get(s, 0)) for s in STATUSES}

    def next_queued(self, *, exclude: Collection[str] = ()) -> str | None:
        """The oldest queued job not in `exclude` (those a worker of this process has taken)."""
        marks = ", ".join("?" * len(exclude))
        row = self.db.one(
            "SELECT id FROM jobs WHERE status = 'queued' "
            + (f"AND id NOT IN ({marks}) " if exclude else "")
            + "ORDER BY created_at, id LIMIT 1",
            tuple(exclude))
        return row[0] if row else None

    def requeue_running(self) -> builtins.list[str]:
        """Jobs a dead process left running go back to the queue (attempts are kept)."""
        rows = self.db.all("UPDATE jobs SET status = 'queued', updated_at = ? WHERE status = 'running' RETURNING id",
                         (now(),))
        return [r[0] for r in rows]

    # --- review claims and decisions ---------------------------------------------------

    def claim_review(self, job_id: str, reviewer: str, minutes: int = 15) -> JobRow:
        """Hold a job awaiting review for `reviewer`; Conflict if another holds it."""
        at = now()
        until = (datetime.fromisoformat(at) + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")
        changed = self.db.write(
            "UPDATE jobs SET claimed_by = ?, claimed_until = ? WHERE id = ? AND status = 'awaiting_review' "
            "AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)",
            (reviewer, until, job_id, reviewer, at),
        )
        job = self.get(job_id)
        if not changed:
            if job.status != "awaiting_review":
                raise Conflict(f"job {job_id} is {job.status}, not awaiting review")
            raise Conflict(f"job {job_id} is claimed by {job.claimed_by} until {job.claimed_until}")
        return job

    def record_decision(self, job_id: str, decision: dict[str, Any]) -> None:
        """Write the decision once; a second one (even at the same instant) is a Conflict."""
        job = self.get(job_id)
        at = now()
        if job.status != "awaiting_review":
            raise Conflict(f"job {job_id} is {job.status}, not awaiting review")
        reviewer = decision.get("reviewer")
        if job.claimed_by and job.claimed_by != reviewer and (job.claimed_until or "") > at:
            raise Conflict(f"job {job_id} is claimed by {job.claimed_by} until {job.claimed_until}")
        try:
            self.db.write("INSERT INTO decisions (job_id, decision, recorded_at) VALUES (?, ?, ?)",
                        (job_id, json.dumps(decision, ensure_ascii=False), at))
        except self.db.integrity_error:
            raise Conflict(f"job {job_id} has already been decided") from None

    def mark_applied(self, job_id: str) -> None:
        """The recorded decision has been applied to the graph."""
        self.db.write("UPDATE decisions SET applied = 1 WHERE job_id = ?", (job_id,))

    def decision(self, job_id: str) -> DecisionRow | None:
        """The recorded decision on a job, if any."""
        row = self.db.one("SELECT job_id, decision, applied FROM decisions WHERE job_id = ?", (job_id,))
        return DecisionRow(row[0], json.loads(row[1]), bool(row[2])) if row else None

    def unapplied_decisions(self) -> builtins.list[DecisionRow]:
        """Decisions recorded but not applied (the process died in between)."""
        rows = self.db.all("SELECT job_id, decision, applied FROM decisions WHERE applied = 0 ORDER BY recorded_at")
        return [DecisionRow(r[0], json.loads(r[1]), bool(r[2])) for r in rows]


def _filters(status: str | None, since: str | None, submitter_key: str | None = None) -> tuple[str, tuple[Any, ...]]:
    """SQL condition and arguments for the list filters (values are always bound)."""
    clauses, args = ["1=1"], []
    if submitter_key is not None:
        clauses.append("submitter_key = ?")
        args.append(submitter_key)
    if status:
        clauses.append("status = ?")
        args.append(status)
    if since:
        clauses.append("created_at >= ?")
        args.append(since)
    return " AND ".join(clauses), tuple(args)


def _job(r: tuple[Any, ...]) -> JobRow:
    return JobRow(id=r[0], status=r[1], question=r[2], files=json.loads(r[3]), auto_approve=bool(r[4]),
                  attempts=r[5], error=r[6], created_at=r[7], updated_at=r[8], submitted_by=r[9],
                  claimed_by=r[10], claimed_until=r[11], awaiting_since=r[12], submitter_key=r[13])
