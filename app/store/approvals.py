"""Approvals below the number a two-person rule needs, one row per (job, round, reviewer key).

The primary key makes "the same reviewer cannot count twice" hold in the database, on both
backends, even for two requests at the same instant. A round is one candidate answer: round 0
is the draft; an edit opens the next round with the edited answer, and the editor's row counts
as its first approval (so an edit restarts the count). Only the approval that completes the
count (or a rejection) becomes the job's recorded decision (app/store/jobs.py `decisions`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.store.db import Database, Executor


@dataclass(frozen=True)
class Approval:
    """One reviewer's approval (or the edit that opened a round)."""

    reviewer: str
    reviewer_key: str
    decision: str
    """"approve" or "edit" (the edit that opened this round)."""
    at: str
    answer: str | None = None


@dataclass(frozen=True)
class Round:
    """The candidate answer being approved and who approved it."""

    number: int
    approvals: list[Approval]

    @property
    def candidate_answer(self) -> str | None:
        """The edited answer this round approves (None: the draft)."""
        return next((a.answer for a in self.approvals if a.decision == "edit"), None)

    def public(self) -> list[dict[str, Any]]:
        """Who approved and when, for the job document."""
        return [{k: v for k, v in asdict(a).items() if k in ("reviewer", "decision", "at")} for a in self.approvals]


def current_round(ex: Executor, job_id: str) -> Round:
    """The latest round of a job (round 0 with no approvals when none was given)."""
    row = ex.one("SELECT MAX(round) FROM approvals WHERE job_id = ?", (job_id,))
    number = int(row[0]) if row and row[0] is not None else 0
    rows = ex.all("SELECT reviewer, reviewer_key, decision, at, answer FROM approvals WHERE job_id = ? AND round = ? "
                  "ORDER BY at, reviewer_key", (job_id, number))
    return Round(number, [Approval(*r) for r in rows])


def add(ex: Executor, job_id: str, number: int, approval: Approval) -> None:
    """Record one approval in round `number`; the database's integrity error when this key already
    counted in that round."""
    ex.write("INSERT INTO approvals (job_id, round, reviewer_key, reviewer, decision, answer, at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?)",
             (job_id, number, approval.reviewer_key, approval.reviewer, approval.decision, approval.answer,
              approval.at))


class ApprovalStore:
    """Reads for the job document and the dashboard."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def current(self, job_id: str) -> Round:
        """The job's latest round."""
        return current_round(self.db, job_id)

    def refuse(self, job_id: str, *, case_kind: str | None, reviewer_key: str | None, reason: str, at: str) -> None:
        """Count a decision refused because the job changed since the reviewer saw it."""
        self.db.write("INSERT INTO review_refusals (job_id, case_kind, reviewer_key, reason, at) VALUES (?, ?, ?, ?, ?)",
                      (job_id, case_kind, reviewer_key, reason, at))

    def refusals_by_kind(self, since: str | None = None) -> dict[str, int]:
        """Refused stale decisions per case kind."""
        rows = self.db.all("SELECT COALESCE(case_kind, 'none'), COUNT(*) FROM review_refusals WHERE at >= ? "
                           "GROUP BY COALESCE(case_kind, 'none')", (since or "",))
        return {str(k): int(n) for k, n in rows}

    def multi_reviewer_jobs(self) -> set[str]:
        """Jobs decided with more than one reviewer's approval."""
        rows = self.db.all("SELECT job_id FROM approvals GROUP BY job_id, round HAVING COUNT(*) >= 2")
        return {str(r[0]) for r in rows}
