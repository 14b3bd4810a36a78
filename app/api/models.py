"""Request and response models of the API (they are the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "awaiting_review", "approved", "rejected", "failed"]


class FilePublic(BaseModel):
    """An attached file; fetch its bytes from /v1/artifacts/{sha256}."""

    id: str = Field(examples=["f1"])
    name: str = Field(examples=["nameplate.jpg"])
    kind: Literal["image", "audio", "document"]
    sha256: str


class JobCreated(BaseModel):
    """A job was accepted and queued."""

    id: str = Field(examples=["3f2a9c0d1e4b5a67"])
    status: JobStatus = Field(examples=["queued"])


class ReviewPublic(BaseModel):
    """The decision on a job."""

    decision: Literal["approve", "edit", "reject", "auto_approve"]
    reviewer: str | None = None
    comment: str | None = None
    answer: str | None = None
    at: str | None = None


class JobPublic(BaseModel):
    """Everything about one job: inputs, plan, evidence, draft, flags, decision."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2a9c0d1e4b5a67", "status": "awaiting_review", "question": "What is the serial number?",
        "files": [{"id": "f1", "name": "plate.jpg", "kind": "image", "sha256": "9b1c…"}],
        "plan": [{"id": "s1", "tool": "ocr", "file": "f1", "args": {}, "after": [], "origin": "planner"}],
        "steps": [{"step": "s1", "tool": "ocr", "file": "f1", "ok": True, "summary": "Read 3 lines…",
                   "confidence": 0.91, "result": {"text": "SERIAL NO. AX-4471-B"}, "error": None,
                   "error_kind": None, "duration_ms": 240.0, "cached": False}],
        "draft_answer": "The serial number is AX-4471-B.", "citations": ["s1"], "flags": [],
        "confidence": 0.91, "final_answer": None, "review": None,
    }]})

    id: str
    status: JobStatus
    question: str
    files: list[FilePublic]
    error: str | None = None
    plan: list[dict[str, Any]] = []
    plan_notes: list[str] = []
    steps: list[dict[str, Any]] = []
    facts: list[str] = []
    draft_answer: str | None = None
    citations: list[str] = []
    flags: list[dict[str, Any]] = []
    confidence: float | None = None
    confidence_explained: str | None = None
    final_answer: str | None = None
    review: ReviewPublic | None = None
    routing: dict[str, Any] | None = None
    timestamps: dict[str, str] = {}
    created_at: str
    updated_at: str
    submitted_by: str | None = None
    claimed_by: str | None = None
    claimed_until: str | None = None


class JobSummary(BaseModel):
    """One line of a job list."""

    id: str
    status: JobStatus
    question: str
    created_at: str
    updated_at: str
    error: str | None = None


class JobsPublic(BaseModel):
    """A page of jobs and the total matching the filters."""

    data: list[JobSummary]
    count: int


class ReviewQueueItem(BaseModel):
    """A job waiting for a reviewer."""

    id: str
    question: str
    created_at: str
    awaiting_since: str | None
    flags: list[dict[str, Any]]
    confidence: float | None
    draft_answer: str | None
    claimed_by: str | None
    claimed_until: str | None


class ReviewQueue(BaseModel):
    """The review queue, oldest first."""

    data: list[ReviewQueueItem]
    count: int


class DecisionIn(BaseModel):
    """A reviewer's decision."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"decision": "approve"},
        {"decision": "edit", "answer": "Serial AX-4471-B, model KX-200.", "comment": "added the model"},
        {"decision": "reject", "comment": "the photo shows another machine"},
    ]})

    decision: Literal["approve", "edit", "reject"]
    answer: str | None = Field(None, max_length=10_000, description="The corrected answer (for edit).")
    comment: str | None = Field(None, max_length=10_000, description="Why (required for reject).")


class ClaimOut(BaseModel):
    """Who holds a job for review, and until when."""

    id: str
    claimed_by: str
    claimed_until: str


class KeyIn(BaseModel):
    """A new API key's role and a name saying whose it is."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["submitter", "reviewer", "admin"]
    name: str = Field(min_length=1, max_length=200, examples=["line 3 tablet"])


class KeyCreated(BaseModel):
    """A new key; the key itself is shown only this once."""

    id: str
    name: str
    role: str
    key: str


class Me(BaseModel):
    """The caller's key."""

    id: str
    name: str
    role: Literal["submitter", "reviewer", "admin"]
