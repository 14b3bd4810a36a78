"""The review policy: routing rules and the audit sample."""

from __future__ import annotations

from graphs.policy import Policy, route


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
    # A job's own auto_approve request counts only for the case kinds the admin lists: none by
    # default (issue 18: it was honoured everywhere); `honour_job_auto_approve` stays the master switch.
    assert route(Policy(audit_rate=0.0), 1, job(confidence=0.1, auto=True)).reasons == [
        "the job asked for auto-approval; the policy does not allow it for ocr"]
    ocr_only = Policy(audit_rate=0.0, auto_approve_case_kinds=["ocr"])
    assert route(ocr_only, 1, job(confidence=0.1, auto=True)).route == "auto"
    assert route(ocr_only, 1, job(auto=True, tools=("detect",))).route == "human"
    assert route(ocr_only, 1, job(auto=True, tools=("asr", "ocr"))).route == "human"
    assert route(Policy(audit_rate=0.0, auto_approve_case_kinds=["*"]), 1, job(auto=True, tools=("detect",))).route == "auto"
    off = Policy(audit_rate=0.0, auto_approve_case_kinds=["*"], honour_job_auto_approve=False)
    assert route(off, 1, job(auto=True)).route == "human"
    # The threshold rule is not blocked by a refused request.
    assert route(Policy(audit_rate=0.0, auto_approve_min_confidence=0.9), 1, job(auto=True)).route == "auto"


def test_question_patterns_are_checked_and_bounded() -> None:
    bad = Policy(always_review_questions=["serial(", r"(a+)+$", r"\bsafety\b"])
    problems = bad.pattern_problems()
    assert len(problems) == 2 and "not a valid regular expression" in problems[0]
    assert "catastrophic backtracking" in problems[1]
    assert Policy(always_review_questions=[r"\bsafety\b", "serial|model"]).pattern_problems() == []
    # A pattern stored before the check (or one that backtracks) sends the job to a person, in bounded time.
    r = route(bad, 1, job(question="a" * 4000 + "!", confidence=1.0))
    assert r.route == "human"
    assert "question pattern 'serial(' is not a valid regular expression" in r.reasons
    assert "question pattern '(a+)+$' took over 0.05 s" in r.reasons


def test_audit_sample_is_stable_and_near_its_rate() -> None:
    p = Policy(auto_approve_min_confidence=0.5, audit_rate=0.1)
    decisions = [route(p, 1, job(f"job-{i}")) for i in range(2000)]
    audited = [d for d in decisions if d.audit]
    assert all(d.route == "human" and "drawn for audit" in d.reasons[-1] for d in audited)
    assert 0.08 < len(audited) / len(decisions) < 0.12
    # The same job is decided the same way every time (the review node may re-run).
    assert [route(p, 1, job(f"job-{i}")).audit for i in range(50)] == [d.audit for d in decisions[:50]]
    assert not any(route(Policy(auto_approve_min_confidence=0.5, audit_rate=0.0), 1, job(f"j{i}")).audit for i in range(200))
