"""Review: a person's decision is validated, bound to what they saw, recorded once, and handed to
the queue; a finished job's outcome is kept, and an audit the reviewer disagreed with pauses automation.

The decision is one `graphs.contract.Decision`, validated here once: the API's body is
already one, the CLI and tests may hand a dict. It carries the job's `fingerprint` as the
reviewer saw it (app/fingerprint.py); a job that changed since is refused (`Conflict`, code
`stale_fingerprint`) and the refusal counted. It is recorded before anything else (one row
per job, so a second decision is a `Conflict`), then applied by a worker resuming the graph;
the caller waits a while for that and gets the job as it stands.

Under a two-person rule (graphs/policy.py) approvals below the number needed are kept in their
own table (app/store/approvals.py); only the one that completes the count, or a rejection,
becomes the recorded decision. Every decision and approval is appended to the audit chain
(app/store/audit.py) in the same transaction as the approval.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from app.errors import Conflict, JobRejected
from app.jobqueue import JobQueue
from app.store import approvals as approval_rows
from app.store.approvals import Approval, ApprovalStore
from app.store.audit import AuditLog, append_in, lock_chain
from app.store.jobs import JobRow, JobStore
from app.store.outcomes import OutcomeStore
from app.store.policies import PolicyStore
from graphs.contract import Decision, now
from graphs.policy import approvals_needed

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
        self.approvals = ApprovalStore(jobs.db)
        self.audit = AuditLog(jobs.db)

    def approvals_view(self, job_id: str, state: dict[str, Any]) -> dict[str, Any]:
        """What the job document says about approvals: who approved the candidate answer so far,
        how many the policy in force needs, the round and its candidate answer (None: the draft)."""
        needed, _ = approvals_needed(self.policies.current()[0], state)
        rnd = self.approvals.current(job_id)
        return {"approvals": rnd.public(), "approvals_needed": needed, "approval_round": rnd.number,
                "candidate_answer": rnd.candidate_answer}

    def check_claim(self, job_id: str, reviewer_key: str) -> None:
        """Under a two-person rule a reviewer who already approved the candidate answer cannot claim
        the job again (`Conflict`): it waits for another reviewer."""
        if reviewer_key in {a.reviewer_key for a in self.approvals.current(job_id).approvals}:
            raise Conflict(f"you already approved job {job_id}; it waits for another reviewer", code="same_reviewer")

    def decide(self, job_id: str, decision: Decision | dict[str, Any], *, reviewer_key: str | None = None,
               bound: bool = False) -> JobRow:
        """Record a reviewer's decision (once: a second is a `Conflict`) with the key id that made it,
        have it applied, and return the job once it is (or as it stands after the wait; it will be applied).

        A decision with a `fingerprint` that no longer matches the job is a `Conflict`. `bound`
        (the API): one without a fingerprint is refused too, unless the policy allows it. Under a
        two-person rule an approval below the number needed is kept and the job returned as it
        stands, still awaiting review."""
        valid = as_decision(decision)
        if valid.at is None:
            valid = valid.model_copy(update={"at": now()})
        doc = self.document(job_id)  # KeyError when there is no such job
        self._check_fingerprint(doc, valid, reviewer_key, bound=bound)
        key = reviewer_key or f"name:{valid.reviewer}"
        if doc["approvals_needed"] > 1 and valid.decision != "reject":
            if self._approve(job_id, valid, key, doc) is None:
                return self.jobs.get(job_id)
        else:
            record = valid.model_dump(exclude_none=True, exclude={"fingerprint"})
            self.jobs.record_decision(job_id, record, reviewer_key=reviewer_key)
            self.audit.append("decision", valid.reviewer or "unknown",
                              {"job_id": job_id, "reviewer_key": key, "fingerprint": doc["fingerprint"], **record})
        self.queue.defer_decision(job_id)
        deadline = time.monotonic() + self.apply_wait_seconds
        while (job := self.jobs.get(job_id)).status == "awaiting_review" and time.monotonic() < deadline:
            time.sleep(0.1)
        return job

    def _check_fingerprint(self, doc: dict[str, Any], valid: Decision, reviewer_key: str | None, *,
                           bound: bool) -> None:
        if valid.fingerprint is None:
            if bound and self.policies.current()[0].require_fingerprint:
                raise JobRejected("send the job's `fingerprint` (from GET /v1/jobs/{id}) with the decision: this "
                                  "service binds a decision to exactly what the reviewer saw", code="fingerprint_required")
            return
        if valid.fingerprint != doc["fingerprint"]:
            self._refuse(doc, reviewer_key, "the job changed since it was opened")
            raise Conflict(f"job {doc['id']} changed since you opened it (its draft, evidence or the answer being "
                           "approved is not what you saw): reload it and decide again", code="stale_fingerprint")

    def _refuse(self, doc: dict[str, Any], reviewer_key: str | None, reason: str) -> None:
        self.approvals.refuse(doc["id"], case_kind=(doc.get("routing") or {}).get("case_kind"),
                              reviewer_key=reviewer_key, reason=reason, at=now())

    def _approve(self, job_id: str, valid: Decision, key: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        """One approval (or an edit, which opens a new round and counts as its first) under a
        two-person rule, in one transaction with the audit entry: the completed decision when this
        approval makes the count, else None."""
        needed, at, who = int(doc["approvals_needed"]), str(valid.at), valid.reviewer or "unknown"
        db = self.jobs.db
        try:
            with db.transaction(lock="approvals") as tx:
                lock_chain(tx, db.dialect)
                row = tx.one("SELECT status, claimed_key, claimed_by, claimed_until FROM jobs WHERE id = ?", (job_id,))
                if row is None or row[0] != "awaiting_review":
                    raise Conflict(f"job {job_id} is {row[0] if row else 'gone'}, not awaiting review")
                if row[3] and row[3] >= at and row[1] not in (None, key):
                    raise Conflict(f"job {job_id} is claimed by {row[2]} until {row[3]}")
                rnd = approval_rows.current_round(tx, job_id)
                if rnd.number != doc["approval_round"]:
                    raise _Stale
                if valid.decision == "edit":
                    number, approvals = rnd.number + 1, [Approval(who, key, "edit", at, valid.answer)]
                else:
                    if key in {a.reviewer_key for a in rnd.approvals}:
                        raise Conflict(f"you already approved job {job_id}; {needed} different reviewers must "
                                       "approve it", code="same_reviewer")
                    number, approvals = rnd.number, [*rnd.approvals, Approval(who, key, "approve", at)]
                approval_rows.add(tx, job_id, number, approvals[-1])
                append_in(tx, "approval", who, {"job_id": job_id, "reviewer_key": key, "decision": valid.decision,
                                                "round": number, "count": len(approvals), "needed": needed,
                                                "fingerprint": doc["fingerprint"], "answer": valid.answer})
                if len(approvals) < needed:  # the claim is this reviewer's: free the job for the next one
                    tx.write("UPDATE jobs SET claimed_by = NULL, claimed_key = NULL, claimed_until = NULL "
                             "WHERE id = ? AND claimed_key = ?", (job_id, key))
                    return None
                candidate = next((a.answer for a in approvals if a.decision == "edit"), None)
                names = ", ".join(a.reviewer for a in approvals)
                final: dict[str, Any] = {"decision": "edit", "answer": candidate} if candidate else {"decision": "approve"}
                final.update(reviewer=who, at=at, comment=f"approved by {names} ({len(approvals)} of {needed})"
                             + (f"; {valid.comment}" if valid.comment else ""))
                tx.write("INSERT INTO decisions (job_id, decision, recorded_at, reviewer_key) VALUES (?, ?, ?, ?)",
                         (job_id, json.dumps(final, ensure_ascii=False), at, key))
                append_in(tx, "decision", who, {"job_id": job_id, "reviewer_key": key,
                                                "fingerprint": doc["fingerprint"], **final,
                                                "approvals": [a.reviewer_key for a in approvals]})
                return final
        except _Stale:
            self._refuse(doc, key, "another reviewer edited the answer meanwhile")
            raise Conflict(f"job {job_id} changed since you opened it (another reviewer edited the answer): reload "
                           "it and decide again", code="stale_fingerprint") from None
        except db.integrity_error:  # the same key at the same instant, or a decision already recorded
            raise Conflict(f"job {job_id}: this approval was already counted, or the job was decided",
                           code="same_reviewer") from None

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


class _Stale(Exception):
    """Inside the approval transaction: the round moved on since the reviewer's view."""
