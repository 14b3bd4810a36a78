"""Request and response models of the API (they are the OpenAPI schema).

They derive from the job contract (`graphs.contract`) and the graph's state types
(`graphs.state`): statuses, file kinds, plan steps, step results, flags, routing and
the review are declared there once, so the schema documents the evidence itself.
A decision's body is `graphs.contract.Decision`, used as it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.auth import RoleName
from graphs.contract import FileKindName, JobStatus
from graphs.policy import Routing
from graphs.state import Flag, PlanStep, Review, Round, StepResult

__all__ = [
    "ApprovalPublic", "ClaimOut", "FilePublic", "JobCreated", "JobPublic", "JobStatus", "JobSummary", "JobsPublic", "KeyCreated",
    "KeyIn", "Me", "ReviewQueue", "ReviewQueueItem",
]


class FilePublic(BaseModel):
    """An attached file; fetch its bytes from /v1/artifacts/{sha256}."""

    id: str = Field(examples=["f1"])
    name: str = Field(examples=["nameplate.jpg"])
    kind: FileKindName
    sha256: str


class JobCreated(BaseModel):
    """A job was accepted and queued."""

    id: str = Field(examples=["3f2a9c0d1e4b5a67"])
    status: JobStatus = Field(examples=["queued"])


class ApprovalPublic(BaseModel):
    """One reviewer's approval of the candidate answer (an edit counts as its editor's approval)."""

    reviewer: str
    decision: str
    at: str


class JobPublic(BaseModel):
    """Everything about one job: inputs, plan, evidence, draft, flags, decision (`app.document`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2a9c0d1e4b5a67", "status": "awaiting_review", "question": "What is the serial number?",
        "files": [{"id": "f1", "name": "plate.jpg", "kind": "image", "sha256": "9b1c…"}],
        "plan": [{"id": "s1", "tool": "ocr", "file": "f1", "args": {}, "after": [], "origin": "planner",
                  "produces": "text", "round": 1}],
        "steps": [{"step": "s1", "tool": "ocr", "produces": "text", "file": "f1", "ok": True,
                   "summary": "Read 3 lines…", "confidence": 0.91, "result": {"text": "SERIAL NO. AX-4471-B"},
                   "error": None, "error_kind": None, "duration_ms": 240.0, "cached": False}],
        "draft_answer": "The serial number is AX-4471-B.", "citations": ["s1"], "flags": [],
        "confidence": 0.91, "final_answer": None, "review": None,
    }]})

    id: str
    status: JobStatus
    question: str
    files: list[FilePublic]
    error: str | None = None
    plan: list[PlanStep] = []
    plan_notes: list[str] = []
    steps: list[StepResult] = []
    facts: list[str] = []
    glances: dict[str, str] = {}
    """What a glance at each file before planning found (when glances are on)."""
    rounds: list[Round] = []
    """Each planning round and why it was taken (a second round: the agent looked again)."""
    draft_answer: str | None = None
    draft_source: Literal["llm", "code"] | None = None
    """Who wrote the draft: the LLM, or code reading the one labelled value a field question asks for."""
    citations: list[str] = []
    cited_lines: list[str] = []
    """Lines of long evidence the draft cites ("s1:p27:l4"; transcripts "s2:t3")."""
    flags: list[Flag] = []
    confidence: float | None = None
    confidence_explained: str | None = None
    final_answer: str | None = None
    review: Review | None = None
    routing: Routing | None = None
    timestamps: dict[str, str] = {}
    created_at: str
    updated_at: str
    submitted_by: str | None = None
    claimed_by: str | None = None
    claimed_until: str | None = None
    approvals: list[ApprovalPublic] = []
    """Who approved the candidate answer so far (two-person rules)."""
    approvals_needed: int = 1
    approval_round: int = 0
    """0: the draft is being approved; each edit under a two-person rule starts the next round."""
    candidate_answer: str | None = None
    """The edited answer being approved (None: the draft)."""
    fingerprint: str = ""
    """sha256 of what a reviewer sees; send it back with the decision (app/fingerprint.py)."""


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
    """A job waiting for a reviewer (a part of its document)."""

    id: str
    question: str
    created_at: str
    awaiting_since: str | None
    flags: list[Flag]
    confidence: float | None
    draft_answer: str | None
    claimed_by: str | None
    claimed_until: str | None
    approvals: list[ApprovalPublic] = []
    approvals_needed: int = 1
    candidate_answer: str | None = None
    fingerprint: str = ""


class ReviewQueue(BaseModel):
    """The review queue, oldest first."""

    data: list[ReviewQueueItem]
    count: int


class ClaimOut(BaseModel):
    """Who holds a job for review, and until when."""

    id: str
    claimed_by: str
    claimed_until: str


class KeyIn(BaseModel):
    """A new API key's role and a name saying whose it is."""

    model_config = ConfigDict(extra="forbid")
    role: RoleName
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
    role: RoleName
