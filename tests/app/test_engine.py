"""The engine over real SQLite and real PostgreSQL: submit checks, failures with reasons, retries bounded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.engine import Engine
from app.errors import Conflict, JobRejected
from app.settings import Settings
from graphs.testing import ScriptedChatModel
from tests.fixtures.images import render_nameplate

PLAN = {"steps": [{"tool": "ocr", "file": "f1"}]}
DRAFT = {"answer": "Serial AX-4471-B.", "citations": ["s1"], "answerable": True}


@pytest.fixture
def make_engine(tmp_path: Path, registry: Any, database_url: str | None) -> Callable[[list[Any]], Engine]:
    def make(replies: list[Any]) -> Engine:
        return Engine(Settings(data_dir=tmp_path / "data", database_url=database_url),
                      llm=ScriptedChatModel(list(replies)))

    return make


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return render_nameplate(tmp_path / "plate.png")


def test_submit_refuses_bad_requests_and_stores_nothing(make_engine: Callable[..., Engine], plate: Path, tmp_path: Path) -> None:
    engine = make_engine([])
    text = tmp_path / "notes.jpg"
    text.write_text("just some notes")
    cases = [
        ("", [(plate, "p.png")], "the question is empty"),
        ("x" * 5000, [(plate, "p.png")], "the limit is 4000"),
        ("What?", [], "attach at least one file"),
        ("What?", [(plate, "p.png")] * 11, "the limit is 10"),
        ("What?", [(text, "notes.jpg")], "is plain text, whatever its name says"),
    ]
    for question, files, reason in cases:
        with pytest.raises(JobRejected, match=reason):
            engine.submit(question, files)
    assert engine.jobs.list() == []


def test_job_runs_to_review_and_once_only(make_engine: Callable[..., Engine], plate: Path) -> None:
    engine = make_engine([PLAN, DRAFT])
    job = engine.submit("Serial?", [(plate, "plate.png")])
    assert job.status == "queued" and job.files[0]["kind"] == "image"
    assert "path" not in job.files[0]  # found by sha256, on whichever machine runs it
    assert engine.artifacts.local_path(job.files[0]["sha256"]).read_bytes() == plate.read_bytes()
    job = engine.run(job.id)
    assert job.status == "awaiting_review"
    assert engine.state(job.id)["steps"][0]["result"]["text"].startswith("SERIAL NO. AX-4471-B")
    assert engine.run(job.id).status == "awaiting_review"  # running again changes nothing
    job = engine.review(job.id, {"decision": "approve", "reviewer": "ana"})
    assert job.status == "approved"
    with pytest.raises(Conflict, match="is approved, not awaiting review"):
        engine.review(job.id, {"decision": "approve"})


def test_bad_decision_is_refused_and_job_keeps_waiting(make_engine: Callable[..., Engine], plate: Path) -> None:
    engine = make_engine([PLAN, DRAFT])
    job = engine.run(engine.submit("Serial?", [(plate, "plate.png")]).id)
    with pytest.raises(JobRejected, match="needs the corrected answer"):
        engine.review(job.id, {"decision": "edit"})
    assert engine.jobs.get(job.id).status == "awaiting_review"


def test_planner_failure_fails_the_job_with_a_reason(make_engine: Callable[..., Engine], plate: Path) -> None:
    def explode(messages: Any, schema: Any) -> str:
        raise RuntimeError("llama.cpp could not allocate the context")

    engine = make_engine([explode])
    job = engine.run(engine.submit("Serial?", [(plate, "plate.png")]).id)
    assert job.status == "failed"
    assert job.error == "RuntimeError: llama.cpp could not allocate the context"


def test_a_job_that_keeps_killing_its_worker_is_failed(make_engine: Callable[..., Engine], plate: Path) -> None:
    engine = make_engine([])
    job = engine.submit("Serial?", [(plate, "plate.png")])
    for _ in range(3):  # as if three workers died while running it
        engine.jobs.set_status(job.id, "running", count_attempt=True)
    (recovered,) = engine.recover()
    assert recovered.status == "failed"
    assert "stopped 3 times while running this job" in recovered.error


def test_audit_disagreement_pauses_automation_and_history_is_kept(make_engine: Callable[..., Engine], plate: Path) -> None:
    from graphs.policy import Policy

    engine = make_engine([PLAN, DRAFT, PLAN, DRAFT, PLAN, DRAFT])
    engine.policies.put(Policy(auto_approve_min_confidence=0.0, audit_rate=1.0), changed_by="test")
    audited = engine.run(engine.submit("Serial?", [(plate, "plate.png")]).id)
    routing = engine.state(audited.id)["routing"]
    assert audited.status == "awaiting_review" and routing["audit"] is True and routing["case_kind"] == "ocr"
    engine.review(audited.id, {"decision": "edit", "answer": "Serial AX-4471-B (plate is worn).", "reviewer": "ana"})

    policy, version = engine.policies.current()
    assert version == 2 and "ocr" in policy.paused_case_kinds
    assert f"audit of job {audited.id} was edited by ana" == policy.paused_case_kinds["ocr"]

    # With the audit sample off, the next OCR job still goes to a person: automation is paused.
    engine.policies.put(policy.model_copy(update={"audit_rate": 0.0}), changed_by="test")
    paused = engine.run(engine.submit("Serial?", [(plate, "plate.png")]).id)
    assert paused.status == "awaiting_review"
    assert engine.state(paused.id)["routing"]["reasons"] == [f"automation paused for ocr: {policy.paused_case_kinds['ocr']}"]

    # Lifting the pause lets the rule approve it.
    engine.policies.put(Policy(auto_approve_min_confidence=0.0, audit_rate=0.0), changed_by="admin")
    auto = engine.run(engine.submit("Serial?", [(plate, "plate.png")]).id)
    assert auto.status == "approved" and engine.state(auto.id)["review"]["decision"] == "auto_approve"

    stats = engine.outcomes.stats()
    assert stats["audits"] == {"count": 1, "agreed": 0, "precision": 0.0}
    assert stats["automation"][0]["jobs"] == 2 and stats["automation"][0]["auto_approved"] == 1
    exported = engine.outcomes.export()
    assert [r["review"]["decision"] for r in exported] == ["edit", "auto_approve"]
    assert exported[0]["final_answer"] == "Serial AX-4471-B (plate is worn)."
    assert exported[0]["steps"][0]["result"]["text"].startswith("SERIAL NO. AX-4471-B")
    assert engine.outcomes.reviewed_history() == [(exported[0]["confidence"], False)]
