"""The review policy (admins change it), threshold proposals, automation stats, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from app.api.deps import Admin, EngineDep, Reviewer
from app.policy_stats import propose_threshold, threshold_support, trust_by_kind
from graphs.contract import DECISIONS
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
    case_kind: Annotated[str | None, Query(max_length=200, description="Only this kind's history ('ocr').")] = None,
) -> dict[str, Any]:
    """Suggest the lowest auto-approval threshold that keeps reviewed precision ≥ the target
    (95% Wilson lower bound), over all history or one case kind's; no proposal when it is too thin."""
    history = (engine.outcomes.reviewed_history() if case_kind is None
               else engine.outcomes.reviewed_history_of(case_kind))
    p = propose_threshold(history, min_precision=min_precision, min_support=min_support)
    return {"threshold": p.threshold, "precision": p.precision, "lower_bound": p.lower_bound,
            "support": p.support, "automation_rate": p.automation_rate, "reason": p.reason, "table": p.table}


@router.get("/stats")
def stats(engine: EngineDep, _: Reviewer) -> dict[str, Any]:
    """Automation ratio per day, audit precision, review turnaround, most frequent flags; per case kind
    the automation ratio, audit precision, two-person share and refused stale decisions; and the
    history behind each per-class and OCR-line threshold of the policy."""
    policy, version = engine.policies.current()
    rows = engine.outcomes.trust_rows()
    return engine.outcomes.stats() | {
        "policy_version": version,
        "by_case_kind": trust_by_kind(rows, engine.reviews.approvals.refusals_by_kind()),
        "thresholds": threshold_support([(r[4], r[3]) for r in rows if r[1] in DECISIONS],
                                        policy.detector_class_min_confidence, policy.ocr_line_min_confidence),
    }


@router.get("/export/reviews.jsonl", response_class=StreamingResponse)
def export_reviews(engine: EngineDep, _: Admin, since: str | None = None) -> StreamingResponse:
    """Reviewed jobs (question, evidence, draft, final answer, decision), one JSON per line."""

    def lines() -> Iterator[str]:
        for record in engine.outcomes.export(since=since):
            yield json.dumps(record, ensure_ascii=False) + "\n"

    head = engine.reviews.audit.head()  # the audit chain's head when exported: keep it to check the chain later
    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="reviews.jsonl"',
                                      "X-Audit-Chain-Head": f"{head['seq']}:{head['hash']}" if head else "0:-"})
