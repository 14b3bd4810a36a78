"""Per-run dependencies of the graph, handed in through LangGraph's runtime context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphs.cache import MemoryResultCache, ResultCache, SingleFlight
from graphs.llm import ChatModel
from graphs.policy import Policy
from tools.context import ToolContext
from tools.registry import Registry, ToolSpec

EventSink = Callable[[str, str, dict[str, Any]], None]
"""`emit(job_id, event, data)`: progress for SSE streams and logs."""


def _no_events(job_id: str, event: str, data: dict[str, Any]) -> None:
    return None


def _attachment_path(attachment: dict[str, Any]) -> Path:
    raise LookupError(f"cannot find file {attachment['id']} (sha256 {attachment['sha256']}): give the "
                      "GraphContext an `artifact_path` that finds files by their sha256")


RemoteRunner = Callable[[str, ToolSpec, dict[str, Any], dict[str, Any], str], "dict[str, Any] | None"]
"""`run_elsewhere(job_id, spec, attachment, args, cache_key)` → the tool run as a dict, or None."""


def _default_policy() -> tuple[Policy, int]:
    return Policy(), 0


@dataclass
class GraphContext:
    """What nodes need besides the state: the LLM, the tools, the result cache."""

    llm: ChatModel
    registry: Registry
    tool_ctx: ToolContext
    cache: ResultCache = field(default_factory=MemoryResultCache)
    single_flight: SingleFlight = field(default_factory=SingleFlight)
    emit: EventSink = _no_events
    max_parallel_steps: int = 3
    """Steps run at once; each tool's own limit still applies (tools share 2 cores)."""
    low_confidence: float = 0.6
    """A tool result below this confidence is flagged."""
    policy: Callable[[], tuple[Policy, int]] = _default_policy
    """The current review policy and its version (read when a job is routed)."""
    artifact_path: Callable[[dict[str, Any]], Path] = _attachment_path
    """The local file of an attachment (a worker on another machine fetches it first)."""
    run_elsewhere: RemoteRunner | None = None
    """Runs a step on a worker of the tool's resource class when this process does not
    serve that class (scale-out); returns None to run it here."""
    max_rounds: int = 3
    """Planning rounds per job: the first plan and at most two more looks when the
    evidence did not answer the question."""
    replan_budget_s: float = 90.0
    """No further round is started once a job has run this long (seconds since planning)."""
    alarm_classes: frozenset[str] = frozenset({"Fall"})
    """Detector classes that raise an alarm; below `alarm_floor` they are flagged uncertain."""
    alarm_floor: float = 0.6
    glance: bool = False
    """Read each image and document with the text reader before planning (graphs.peek)."""
    field_plans: bool = False
    """A question for a labelled field, or a job whose every file has one reader, is planned
    by code (graphs.planner.field_plan, sole_reader_plan), not the LLM. On in the service
    (`JIMOKU_FIELD_PLANS`)."""
    extractive_answers: bool = False
    """A question for one labelled field with one value in the evidence is answered by code
    (graphs.extractive), not the LLM. On in the service (`JIMOKU_EXTRACTIVE_ANSWERS`)."""
