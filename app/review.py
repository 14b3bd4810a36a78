"""Review: a person's decision is validated, recorded once, and handed to the queue; a finished
job's outcome is kept, and an audit the reviewer disagreed with pauses automation.

The decision is one `graphs.contract.Decision`, validated here once: the API's body is
already one, the CLI and tests may hand a dict. It is recorded before anything else
(one row per job, so a second decision is a `Conflict`), then applied by a worker
resuming the graph; the caller waits a while for that and gets the job as it stands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from app.errors import JobRejected
from app.jobqueue import JobQueue
from app.store.jobs import JobRow, JobStore
from app.store.outcomes import OutcomeStore
from app.store.policies import PolicyStore
from graphs.contract import Decision, now

log = logging.getLogger(__name__)


def as_decision(decision: Decision | dict[str, Any]) -> Decision:
    """The decision, validated; `JobRejected` with the reason when it is malformed."""
    try:
        return Decision.model_validate(decision)
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise JobRejected(reasons) from None


class Reviews:
    """Decisions in, outcomes out."""

    def __init__(self, *, jobs: JobStore, outcomes: OutcomeStore, policies: PolicyStore, queue: JobQueue,
                 document: Callable[[str], dict[str, Any]], apply_wait_seconds: float) -> None:
        self.jobs = jobs
        self.outcomes = outcomes
        self.policies = policies
        self.queue = queue
        self.document = document
        self.apply_wait_seconds = apply_wait_seconds

    def decide(self, job_id: str, decision: Decision | dict[str, Any], *, reviewer_key: str | None = None) -> JobRow:
        """Record a reviewer's decision (once: a second is a `Conflict`) with the key id that made it,
        have it applied, and return the job once it is (or as it stands after the wait; it will be applied)."""
        valid = as_decision(decision)
        if valid.at is None:
            valid = valid.model_copy(update={"at": now()})
        self.jobs.record_decision(job_id, valid.model_dump(exclude_none=True), reviewer_key=reviewer_key)
        self.queue.defer_decision(job_id)
        deadline = time.monotonic() + self.apply_wait_seconds
        while (job := self.jobs.get(job_id)).status == "awaiting_review" and time.monotonic() < deadline:
            time.sleep(0.1)
        return job

    def record_outcome(self, job_id: str) -> None:
        """Keep the finished job in the history; an audit the reviewer edited or rejected pauses
        automation for that kind of case."""
        doc = self.document(job_id)
        self.outcomes.record(doc, awaiting_since=doc["awaiting_since"], finished_at=now())
        routing, review = doc.get("routing") or {}, doc.get("review") or {}
        if routing.get("audit") and review.get("decision") in ("edit", "reject"):
            kind = routing.get("case_kind", "none")
            version = self.policies.pause(
                kind, f"audit of job {job_id} was {review['decision']}ed by {review.get('reviewer')}")
            log.warning("automation paused for %s (policy v%d) after audit of job %s", kind, version, job_id)
