"""The state of one job as it moves through the graph.

`JobInput` is what a caller supplies; `JobState` is everything the nodes add. Every value
is plain JSON (dicts, lists, strings, numbers) so the SQLite checkpointer can store it
and a reviewer's page can show it without translation.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

# pydantic reads these TypedDicts into the API's schema; on Python 3.11 it needs
# typing_extensions' TypedDict for that.
from typing_extensions import TypedDict

from graphs.contract import DecisionKind, FileKindName, FlagKind, JobStatus


class Attachment(TypedDict):
    """One uploaded file, stored content-addressed."""

    id: str
    """Short id the planner uses ("f1", "f2", …)."""
    name: str
    """The name the uploader gave (display only; never used as a path)."""
    kind: FileKindName
    sha256: str
    """The file is found by this digest (`GraphContext.artifact_path`), on whichever machine runs the job."""


class PlanStep(TypedDict):
    """One tool call the planner chose."""

    id: str
    """Step id ("s1", "s2", …), cited by the draft."""
    tool: str
    file: str
    """Attachment id."""
    args: dict[str, Any]
    after: list[str]
    """Step ids that must finish first."""
    origin: Literal["planner", "coverage"]
    """"coverage" marks a step added in code because the plan left a file unread."""
    produces: NotRequired[str]
    """What the tool's result holds (`tools.registry.Produces`: text, transcript, detections, report);
    absent in jobs planned before capabilities existed."""
    round: NotRequired[int]
    """The planning round that chose this step (1 = the first plan; later rounds look again)."""


class StepResult(TypedDict):
    """What one step produced (a `tools.runner.ToolRun` as a dict, plus where it ran)."""

    step: str
    tool: str
    produces: NotRequired[str]
    """What the result holds (`tools.registry.Produces`); checks and the page key off it."""
    file: str
    ok: bool
    summary: str
    confidence: float | None
    result: dict[str, Any] | None
    error: str | None
    error_kind: str | None
    duration_ms: float
    cached: bool


class Flag(TypedDict):
    """Something a reviewer must look at."""

    kind: FlagKind
    message: str
    steps: list[str]


class Round(TypedDict):
    """One planning round: the first plan, or another look and why it was taken."""

    round: int
    reason: str


class Review(TypedDict, total=False):
    """The reviewer's decision, as resumed into the graph."""

    decision: DecisionKind
    answer: str
    comment: str
    reviewer: str
    at: str


class JobInput(TypedDict, total=False):
    """What a job starts with."""

    job_id: str
    question: str
    files: list[Attachment]
    auto_approve: bool


class JobState(JobInput, total=False):
    """Everything the nodes add. Each node returns a partial update of these keys."""

    plan: list[PlanStep]
    """Every step planned, over all rounds (each step says its round)."""
    round: int
    """The current planning round (1 = the first plan)."""
    rounds: list[Round]
    """Each round and why it was taken."""
    look_again: str | None
    """Set by the check when another round may answer the question (the router reads it)."""
    glances: dict[str, str]
    """What a glance at each file before planning found (graphs.peek), file id → text."""
    plan_notes: list[str]
    """What code changed in the LLM's plan (duplicates dropped, coverage steps added)."""
    steps: list[StepResult]
    facts: list[str]
    """Facts computed in code from the evidence, given to the draft as facts."""
    draft_answer: str
    draft_revisions: int
    """1 when the first draft stated something unsupported and was asked again."""
    replaced_draft: Flag | None
    """Why code replaced the draft's own words by a refusal (it only restated the question, or
    its short answer stated what no evidence holds, even after the revision); the check raises it."""
    draft_source: Literal["llm", "code"]
    """Who wrote the draft: the LLM, or code reading the one labelled value asked for (graphs.extractive)."""
    citations: list[str]
    """Step ids the draft rests on."""
    cited_lines: list[str]
    """Line refs the draft cites in long evidence ("s1:p27:l4", "s2:t3"; see graphs.retrieval)."""
    flags: list[Flag]
    confidence: float
    confidence_explained: str
    routing: dict[str, Any]
    """The review policy's decision (graphs.policy.Routing): human or auto, audit, reasons."""
    review: Review
    final_answer: str | None
    status: JobStatus
    timestamps: dict[str, str]
