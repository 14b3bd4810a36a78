"""Retention: finished jobs' uploaded files and event-log rows are deleted after a while.

`jimoku db prune` (app/cli_db.py) runs `prune`. What goes: the files of jobs finished (approved,
rejected, failed, cancelled) and unchanged for `retention_days`, unless a job still inside
retention, unfinished or awaiting review holds the same bytes (files are stored once by
content); and those jobs' event-log rows. What stays: every job row, decision and outcome (the
audit trail, and what `/v1/jobs/{id}` shows), and everything of jobs queued, running or
awaiting review, however old. A pruned job's files no longer count against its key's byte limit.
With PostgreSQL the rows in `artifacts` go, and this machine's local copies; other machines'
local copies are caches that go when their disk is cleaned (they are found by digest only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.store.artifacts import ArtifactStore
from app.store.db import Database
from app.store.jobs import expired_jobs, mark_pruned, prune_events, shas_in_use


@dataclass(frozen=True)
class PruneReport:
    """What one prune removed."""

    before: str
    jobs: int
    files: int
    bytes: int
    kept_shared: int
    """Files of expired jobs kept because a job still inside retention holds the same bytes."""
    events: int


def prune(db: Database, artifacts: ArtifactStore, *, days: float, at: datetime | None = None) -> PruneReport | None:
    """Delete what is older than `days` (see the module); None when retention is off (`days` <= 0)."""
    if days <= 0:
        return None
    before = ((at or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="milliseconds")
    expired = expired_jobs(db, before)
    ids = {job_id for job_id, _ in expired}
    shas = {sha for _, held in expired for sha in held}
    keep = shas_in_use(db, shas, besides=ids)
    freed = sum(artifacts.delete(sha) for sha in sorted(shas - keep))
    mark_pruned(db, ids)
    return PruneReport(before=before, jobs=len(ids), files=len(shas - keep), bytes=freed, kept_shared=len(keep),
                       events=prune_events(db, before))
