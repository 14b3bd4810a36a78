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

    def claim_review(self, job_id: str, reviewer: str, minutes: int = 15, *, key_id: str | None = None,
                     max_open: int | None = None) -> JobRow:
        """Hold a job awaiting review for the reviewer key `key_id` (shown as `reviewer`, its name):
        claims belong to keys, so two keys of one name do not share one. Conflict when another key
        holds it, or when this key already holds `max_open` other open claims. Without a key (the
        CLI, tests) the claim is held by the name."""
        at = now()
        until = (datetime.fromisoformat(at) + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")
        holder = _holder(key_id, reviewer)
        changed = self.db.write(
            "UPDATE jobs SET claimed_by = ?, claimed_key = ?, claimed_until = ? WHERE id = ? "
            "AND status = 'awaiting_review' AND (claimed_until IS NULL OR claimed_until < ? OR claimed_key = ?) "
            "AND (SELECT COUNT(*) FROM jobs AS other WHERE other.claimed_key = ? AND other.id <> ? "
            "AND other.status = 'awaiting_review' AND other.claimed_until >= ?) < ?",
            (reviewer, holder, until, job_id, at, holder, holder, job_id, at,
             max_open if max_open is not None else 2**31),
        )
        job = self.get(job_id)
        if not changed:
            if job.status != "awaiting_review":
                raise Conflict(f"job {job_id} is {job.status}, not awaiting review")
            if self._claim_holder(job_id, at) not in (None, holder):
                raise Conflict(self._claimed_message(job))
            raise Conflict(f"this key already holds {max_open} open review claims (the limit); decide or "
                           "release one first")
        return job

    def release_claim(self, job_id: str) -> bool:
        """Let go of the claim on a job (an admin, or its holder); False when none was held. KeyError
        when there is no such job."""
        self.get(job_id)
        return self.db.write("UPDATE jobs SET claimed_by = NULL, claimed_key = NULL, claimed_until = NULL "
                             "WHERE id = ? AND claimed_until IS NOT NULL", (job_id,)) > 0

    def claim_holder(self, job_id: str) -> str | None:
        """The key id (or `name:<name>` without a key) holding an unexpired claim on the job, or None."""
        return self._claim_holder(job_id, now())

    def _claim_holder(self, job_id: str, at: str) -> str | None:
        row = self.db.one("SELECT claimed_key, claimed_by, claimed_until FROM jobs WHERE id = ?", (job_id,))
        if row is None or not row[2] or row[2] < at:
            return None
        return row[0] or (_holder(None, row[1]) if row[1] else None)  # a claim from before key ids: its name

    def _claimed_message(self, job: JobRow) -> str:
        key = self._claim_holder(job.id, now())
        shown = f"{job.claimed_by} (key {key})" if key and not key.startswith("name:") else job.claimed_by
        return f"job {job.id} is claimed by {shown} until {job.claimed_until}"

    def record_decision(self, job_id: str, decision: dict[str, Any], *, reviewer_key: str | None = None) -> None:
        """Write the decision once, with the reviewer's key id; a second one (even at the same
        instant) is a Conflict, and so is one while another key holds the claim."""
        job = self.get(job_id)
        at = now()
        if self.decision(job_id) is not None:  # say so even while it is being applied (issue 18)
            now_ = "" if job.status == "awaiting_review" else f" is {job.status}, not awaiting review: it"
            raise Conflict(f"job {job_id}{now_} has already been decided")
        if job.status != "awaiting_review":
            raise Conflict(f"job {job_id} is {job.status}, not awaiting review")
        holder = self._claim_holder(job_id, at)
        if holder is not None and holder != _holder(reviewer_key, decision.get("reviewer")):
            raise Conflict(self._claimed_message(job))
        try:
            self.db.write("INSERT INTO decisions (job_id, decision, recorded_at, reviewer_key) VALUES (?, ?, ?, ?)",
                        (job_id, json.dumps(decision, ensure_ascii=False), at, reviewer_key))
        except self.db.integrity_error:
            raise Conflict(f"job {job_id} has already been decided") from None

    def decision_key(self, job_id: str) -> str | None:
        """The key id that recorded the decision on a job (None: none, or made without a key)."""
        row = self.db.one("SELECT reviewer_key FROM decisions WHERE job_id = ?", (job_id,))
        return row[0] if row else None

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


def _holder(key_id: str | None, name: str | None) -> str:
    """Who holds a claim: the key id, or (without a key: the CLI, tests) the name, marked as such."""
    return key_id if key_id else f"name:{name}"


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


# --- work bounded per key, fair order, cancel, retention (issue 18 item 4) --------------------------

UNFINISHED = ("queued", "running")
"""A job counted against its key's queue limit."""


def unfinished_jobs(db: Database, key_id: str) -> int:
    """How many of the key's jobs are queued or running."""
    row = db.one("SELECT COUNT(*) FROM jobs WHERE submitter_key = ? AND status IN ('queued', 'running')", (key_id,))
    return int(row[0]) if row else 0


def stored_bytes(db: Database, key_id: str) -> int:
    """Bytes of upload held for the key's jobs whose files were not pruned (counted per job)."""
    row = db.one("SELECT COALESCE(SUM(stored_bytes), 0) FROM jobs WHERE submitter_key = ? AND pruned_at IS NULL",
                 (key_id,))
    return int(row[0]) if row else 0


def set_stored_bytes(db: Database, job_id: str, size: int) -> None:
    """Record the bytes a job's uploads hold (counted against its key)."""
    db.write("UPDATE jobs SET stored_bytes = ? WHERE id = ?", (size, job_id))


def start_run(db: Database, job_id: str) -> bool:
    """Mark a queued (or left running) job running, counting an attempt; False when it is no longer
    runnable (cancelled meanwhile, decided, finished), so a cancel that wins the race is kept."""
    at = now()
    return db.write("UPDATE jobs SET status = 'running', error = NULL, updated_at = ?, started_at = ?, "
                    "attempts = attempts + 1 WHERE id = ? AND status IN ('queued', 'running')",
                    (at, at, job_id)) > 0


def next_fair(db: Database, *, exclude: Collection[str] = ()) -> str | None:
    """The queued job to run next, round-robin across keys: from the key with the fewest jobs running,
    then the one whose last job started longest ago (never first), then the oldest job of it."""
    marks = ", ".join("?" * len(exclude))
    row = db.one(
        "SELECT j.id FROM jobs j WHERE j.status = 'queued' "
        # Only once intake has said `queued`: a worker polling between the row and that event would
        # otherwise start the job first, and its stream would begin with `running`.
        "AND EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id AND e.event = 'queued') "
        + (f"AND j.id NOT IN ({marks}) " if exclude else "")
        + "ORDER BY (SELECT COUNT(*) FROM jobs r WHERE COALESCE(r.submitter_key, '') = COALESCE(j.submitter_key, '') "
          "AND r.status = 'running'), "
          "COALESCE((SELECT MAX(s.started_at) FROM jobs s WHERE COALESCE(s.submitter_key, '') = "
          "COALESCE(j.submitter_key, '')), ''), j.created_at, j.id LIMIT 1",
        tuple(exclude))
    return row[0] if row else None


def cancel(db: Database, job_id: str, *, admin: bool) -> bool:
    """Cancel a queued job (an admin: also one awaiting review with no decision recorded); False when
    the job is not in such a state (it started, was decided or finished meanwhile)."""
    states = "('queued', 'awaiting_review')" if admin else "('queued')"
    return db.write(f"UPDATE jobs SET status = 'cancelled', updated_at = ?, claimed_by = NULL, claimed_key = NULL, "
                    f"claimed_until = NULL WHERE id = ? AND status IN {states} "
                    "AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.job_id = jobs.id)", (now(), job_id)) > 0


def expired_jobs(db: Database, before: str) -> builtins.list[tuple[str, builtins.list[str]]]:
    """Finished jobs last changed before `before` whose files are not pruned yet: (id, their sha256s)."""
    rows = db.all("SELECT id, files FROM jobs WHERE status IN ('approved', 'rejected', 'failed', 'cancelled') "
                  "AND updated_at < ? AND pruned_at IS NULL", (before,))
    return [(r[0], [f["sha256"] for f in json.loads(r[1])]) for r in rows]


def shas_in_use(db: Database, shas: Collection[str], *, besides: Collection[str]) -> set[str]:
    """Of `shas`, those a job not in `besides` still holds unpruned (unfinished jobs, awaiting review,
    or finished ones within retention): their bytes must stay."""
    if not shas:
        return set()
    used: set[str] = set()
    for job_id, files in db.all("SELECT id, files FROM jobs WHERE pruned_at IS NULL"):
        if job_id in besides:
            continue
        used.update(f["sha256"] for f in json.loads(files) if f["sha256"] in shas)
    return used


def mark_pruned(db: Database, job_ids: Collection[str]) -> None:
    """The jobs' files are gone (their bytes no longer count against their keys)."""
    at = now()
    for job_id in job_ids:
        db.write("UPDATE jobs SET pruned_at = ? WHERE id = ?", (at, job_id))


def prune_events(db: Database, before: str) -> int:
    """Delete event-log rows older than `before` of finished jobs (a job awaiting review or unfinished
    keeps its whole history); returns how many."""
    return db.write("DELETE FROM job_events WHERE at < ? AND job_id IN (SELECT id FROM jobs WHERE status IN "
                    "('approved', 'rejected', 'failed', 'cancelled') AND updated_at < ?)", (before, before))
