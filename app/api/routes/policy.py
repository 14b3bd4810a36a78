"""The review policy (admins change it), threshold proposals, automation stats, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from app.api.deps import Admin, EngineDep, Reviewer
from app.policy_stats import propose_threshold
from graphs.policy import Policy

router = APIRouter(prefix="/v1", tags=["policy"])


@router.get("/policy")
def get_policy(engine: EngineDep, _: Reviewer) -> dict[str, Any]:
    """The review policy in force and its version."""
    policy, version = engine.policies.current()
    return {"version": version, "policy": policy.model_dump()}


@router.put("/policy", responses={422: {"description": "A question pattern does not compile or backtracks "
                                                     "catastrophically; the reason says which"}})
def put_policy(body: Policy, engine: EngineDep, admin: Admin, reason: str | None = None) -> dict[str, Any]:
    """Replace the policy (a new version; earlier ones stay in the history). Question patterns are
    checked first: one that does not compile, or takes too long on a long question, is a 422."""
    if problems := body.pattern_problems():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "; ".join(problems))
    version = engine.policies.put(body, changed_by=admin.name, reason=reason)
    return {"version": version, "policy": body.model_dump()}


@router.get("/policy/history")
def policy_history(engine: EngineDep, _: Admin) -> dict[str, Any]:
    """Every policy version, newest first, with who changed it and why."""
    return {"data": engine.policies.history()}


@router.get("/policy/proposal")
def proposal(
    engine: EngineDep,
    _: Admin,
    min_precision: Annotated[float, Query(gt=0, le=1)] = 0.98,
    min_support: Annotated[int, Query(ge=1)] = 30,
) -> dict[str, Any]:
    """Suggest the lowest auto-approval threshold that keeps reviewed precision ≥ the target
    (95% Wilson lower bound); no proposal when the history is too thin."""
    p = propose_threshold(engine.outcomes.reviewed_history(), min_precision=min_precision, min_support=min_support)
    return {"threshold": p.threshold, "precision": p.precision, "lower_bound": p.lower_bound,
            "support": p.support, "automation_rate": p.automation_rate, "reason": p.reason, "table": p.table}


@router.get("/stats")
def stats(engine: EngineDep, _: Reviewer) -> dict[str, Any]:
    """Automation ratio per day, audit precision, review turnaround, most frequent flags."""
    return engine.outcomes.stats() | {"policy_version": engine.policies.current()[1]}


@router.get("/export/reviews.jsonl", response_class=StreamingResponse)
def export_reviews(engine: EngineDep, _: Admin, since: str | None = None) -> StreamingResponse:
    """Reviewed jobs (question, evidence, draft, final answer, decision), one JSON per line."""

    def lines() -> Iterator[str]:
        for record in engine.outcomes.export(since=since):
            yield json.dumps(record, ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="reviews.jsonl"'})
