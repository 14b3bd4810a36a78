"""The job's vocabulary, written once: statuses, file kinds, decisions, events, flags.

The API models, the stores, the CLI, the graph and the reviewer page all derive from
these names; nothing else spells them out. Values stay plain strings in durable state
(the checkpointer stores JSON), so the types here are `Literal`s with their tuples
derived from them, and the one validated model is `Decision`, used both as the API's
request body and as the graph's resume value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.registry import FileKind, Produces

__all__ = [
    "DECISIONS",
    "FINAL_STATUSES",
    "FLAG_KINDS",
    "STATUSES",
    "Decision",
    "DecisionKind",
    "Event",
    "FileKind",
    "FileKindName",
    "FlagKind",
    "JobStatus",
    "Produces",
    "ReviewerDecision",
    "now",
]

JobStatus = Literal["queued", "running", "awaiting_review", "approved", "rejected", "failed", "cancelled"]
STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
FINAL_STATUSES: tuple[JobStatus, ...] = ("approved", "rejected", "failed", "cancelled")
"""A job in one of these never changes again."""

FileKindName = Literal["image", "audio", "document"]
"""`tools.registry.FileKind` as it is stored (a plain string)."""
assert set(get_args(FileKindName)) == {k.value for k in FileKind}

ReviewerDecision = Literal["approve", "edit", "reject"]
"""What a person can decide."""
DecisionKind = Literal["approve", "edit", "reject", "auto_approve"]
"""What a job's record can say: a person's decision, or the policy's automatic approval."""
DECISIONS: tuple[ReviewerDecision, ...] = get_args(ReviewerDecision)

FlagKind = Literal[
    "conflict", "uncertain_match", "count_mismatch", "low_confidence", "tool_error",
    "unanswerable", "unsupported_claim", "no_evidence", "wrong_field", "uncertain_alarm",
    "instruction_in_evidence", "restates_question",
]
FLAG_KINDS: tuple[FlagKind, ...] = get_args(FlagKind)


class Event(StrEnum):
    """Names of a job's progress events (SSE, the event log, metrics)."""

    QUEUED = "queued"
    RUNNING = "running"
    PLANNED = "planned"
    STEP_STARTED = "step_started"
    STEP_FINISHED = "step_finished"
    TOOL_RAN = "tool_ran"
    """A step run for this job by a worker of another resource class."""
    DRAFTED = "drafted"
    REPLANNED = "replanned"
    """The evidence did not answer the question: the planner is asked again."""
    AWAITING_REVIEW = "awaiting_review"
    FINALIZED = "finalized"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """Cancelled before it ran (its submitter or an admin) or, by an admin, while awaiting review."""


def now() -> str:
    """UTC timestamp in ISO 8601 with milliseconds (the one clock format of jimoku)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Decision(BaseModel):
    """A reviewer's decision: the API's request body and the graph's resume value.

    Validated once, here: an edit carries the corrected answer, a rejection its reason.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"decision": "approve"},
        {"decision": "edit", "answer": "The serial number is AX-4471-B."},
        {"decision": "reject", "comment": "the photo shows the wrong machine"},
    ]})

    decision: ReviewerDecision
    answer: str | None = Field(default=None, max_length=4000, description="The corrected answer (edit).")
    comment: str | None = Field(default=None, max_length=4000, description="Why (required for reject).")
    reviewer: str | None = Field(default=None, description="Set by the service from the API key, not by clients.")
    at: str | None = Field(default=None, description="Set by the service when the decision is recorded.")
    fingerprint: str | None = Field(
        default=None, max_length=100, description="The job's `fingerprint` as the reviewer saw it: a decision on a job "
        "that changed since is refused (409), so it is bound to exactly what was reviewed.")

    @model_validator(mode="after")
    def _complete(self) -> Decision:
        if self.decision == "edit" and not (self.answer or "").strip():
            raise ValueError("an 'edit' decision needs the corrected answer in 'answer'")
        if self.decision == "reject" and not (self.comment or "").strip():
            raise ValueError("a 'reject' decision needs a reason in 'comment'")
        return self
