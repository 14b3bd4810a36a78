"""The review policy: routing rules, the audit sample, and threshold proposals."""

from __future__ import annotations

import pytest

from graphs.policy import Policy, propose_threshold, route, wilson_lower


def job(job_id: str = "job-1", *, confidence: float = 0.95, flags: list | None = None, auto: bool = False,
        tools: tuple[str, ...] = ("ocr",), question: str = "Serial?") -> dict:
    return {"job_id": job_id, "question": question, "confidence": confidence, "flags": flags or [],
            "auto_approve": auto, "steps": [{"tool": t} for t in tools]}


FLAG = {"kind": "conflict", "message": "serial differs", "steps": ["s1", "s2"]}


def test_default_policy_sends_everything_to_a_person() -> None:
    r = route(Policy(), 0, job(confidence=0.99))
    assert r.route == "human" and r.reasons == ["no rule allows automatic approval"]
    assert r.case_kind == "ocr"


def test_a_flagged_draft_is_never_auto_approved() -> None:
    permissive = Policy(auto_approve_min_confidence=0.0, audit_rate=0.0)
    for conf in (0.0, 0.5, 1.0):
        r = route(permissive, 3, job(confidence=conf, flags=[FLAG], auto=True))
        assert r.route == "human" and r.reasons[0] == "1 flag(s): conflict"


def test_threshold_tools_questions_and_pauses() -> None:
    p = Policy(auto_approve_min_confidence=0.9, audit_rate=0.0, always_review_tools=["asr"],
               always_review_questions=[r"\bsafety\b"], paused_case_kinds={"detect": "audit disagreed"})
    assert route(p, 1, job(confidence=0.91)).route == "auto"
    assert route(p, 1, job(confidence=0.89)).reasons == ["confidence 0.89 < 0.90"]
    assert route(p, 1, job(tools=("asr", "ocr"))).reasons == ["tools always reviewed: asr"]
    assert route(p, 1, job(question="Is the safety cover on?")).route == "human"
    assert route(p, 1, job(tools=("detect",))).reasons == ["automation paused for detect: audit disagreed"]
    # A job's own auto_approve request counts as a rule when the policy honours it.
    assert route(Policy(audit_rate=0.0), 1, job(confidence=0.1, auto=True)).route == "auto"
    assert route(Policy(audit_rate=0.0, honour_job_auto_approve=False), 1, job(auto=True)).route == "human"


def test_audit_sample_is_stable_and_near_its_rate() -> None:
    p = Policy(auto_approve_min_confidence=0.5, audit_rate=0.1)
    decisions = [route(p, 1, job(f"job-{i}")) for i in range(2000)]
    audited = [d for d in decisions if d.audit]
    assert all(d.route == "human" and "drawn for audit" in d.reasons[-1] for d in audited)
    assert 0.08 < len(audited) / len(decisions) < 0.12
    # The same job is decided the same way every time (the review node may re-run).
    assert [route(p, 1, job(f"job-{i}")).audit for i in range(50)] == [d.audit for d in decisions[:50]]
    assert not any(route(Policy(auto_approve_min_confidence=0.5, audit_rate=0.0), 1, job(f"j{i}")).audit for i in range(200))


def synthetic_history() -> list[tuple[float, bool]]:
    """200 drafts: at confidence ≥ 0.80 reviewers approved all unchanged; below, every other one."""
    history = []
    for i in range(200):
        conf = round(0.5 + i * 0.0025, 4)
        history.append((conf, conf >= 0.8 or i % 2 == 0))
    return history


def test_proposed_threshold_is_the_lowest_that_keeps_precision() -> None:
    history = synthetic_history()
    p = propose_threshold(history, min_precision=0.95)
    assert p.threshold == 0.8
    above = [ok for conf, ok in history if conf >= p.threshold]
    assert p.support == len(above) == 80 and p.precision == 1.0
    assert p.lower_bound == pytest.approx(wilson_lower(80, 80)) and p.lower_bound >= 0.95
    # Just below, one wrong draft pulls the bound under the target.
    below = [ok for conf, ok in history if conf >= 0.7975]
    assert wilson_lower(sum(below), len(below)) < 0.95
    # A stricter target needs more evidence than this history has.
    assert propose_threshold(history, min_precision=0.99).threshold is None


def test_no_proposal_from_too_little_history() -> None:
    p = propose_threshold([(0.99, True)] * 29, min_precision=0.9)
    assert p.threshold is None and p.reason == "too little history: 29 reviewed drafts, need at least 30"


def test_wilson_lower_bound() -> None:
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(95, 100) == pytest.approx(0.8882, abs=1e-4)
