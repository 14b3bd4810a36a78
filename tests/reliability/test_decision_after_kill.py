"""Issue 18 item 2: a recorded decision is applied exactly once on the first restart, wherever a
kill cut its application.

A decision's application is: record it → resume the graph (the review step's checkpoint, then
finalize's, which says `finalized`) → write the job's final status → mark the decision applied.
Each test leaves the database as a SIGKILL at one of those points does (the graph is driven
directly, stopping where the kill would), then "restarts" (a new engine over the same files)
once, and checks: the final status, the edited answer, exactly one `finalized` event, and a
retry answered "already decided". The real-kill version, through the API on both backends, is
test_hardening_more.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from app.engine import Engine
from app.errors import Conflict
from app.inprocess import InProcessQueue
from app.settings import Settings
from graphs.testing import ScriptedChatModel
from tests.fixtures.images import render_nameplate

PLAN = {"steps": [{"tool": "ocr", "file": "f1"}]}
DRAFT = {"answer": "Serial AX-4471-B.", "citations": ["s1"], "answerable": True}
EDIT = {"decision": "edit", "answer": "Serial AX-4471-B, checked.", "reviewer": "ana"}


@pytest.fixture
def make_engine(tmp_path: Path, registry: Any) -> Callable[..., Engine]:
    def make(replies: list[Any]) -> Engine:
        return Engine(Settings(data_dir=tmp_path / "data"), llm=ScriptedChatModel(list(replies)))

    return make


@pytest.fixture
def decided(make_engine: Callable[..., Engine], tmp_path: Path) -> tuple[Engine, str]:
    """A job awaiting review whose decision is recorded (the API answered nothing yet)."""
    engine = make_engine([PLAN, DRAFT])
    job_id = engine.run(engine.submit("Serial?", [(render_nameplate(tmp_path / "plate.png"), "plate.png")]).id).id
    assert engine.jobs.get(job_id).status == "awaiting_review"
    engine.jobs.record_decision(job_id, EDIT)
    return engine, job_id


def resume(engine: Engine, job_id: str, **stop: Any) -> None:
    """Resume the graph with the decision as the runner would, stopping where a kill would."""
    engine.graph.invoke(Command(resume=EDIT), {"configurable": {"thread_id": job_id}},
                        context=engine.context(), **stop)


def restart_and_check(make_engine: Callable[..., Engine], job_id: str) -> None:
    """One restart, the in-process queue's way (re-queue `running` jobs, apply decisions, run the
    queue), then what the issue asks."""
    restarted = make_engine([])
    queue = InProcessQueue(restarted.runner, workers=0)
    restarted.jobs.requeue_running()
    restarted.apply_pending_decisions()
    while (left := restarted.jobs.next_queued()) is not None:
        restarted.run(left)
    job = restarted.jobs.get(job_id)
    assert job.status == "approved", job
    assert restarted.state(job_id)["final_answer"] == EDIT["answer"]
    events = [e["event"] for e in restarted.events.since(job_id)]
    assert events.count("finalized") == 1, events
    recorded = restarted.jobs.decision(job_id)
    assert recorded is not None and recorded.applied is True
    assert restarted.apply_pending_decisions() == []  # nothing left to apply: applied once
    with pytest.raises(Conflict, match="already been decided"):
        restarted.review(job_id, {"decision": "approve", "reviewer": "ben"})
    queue.close()
    restarted.close()


def test_kill_after_recording_before_resuming(decided: tuple[Engine, str], make_engine: Callable[..., Engine]) -> None:
    _, job_id = decided
    restart_and_check(make_engine, job_id)


def test_kill_between_the_review_and_finalize_checkpoints(decided: tuple[Engine, str],
                                                          make_engine: Callable[..., Engine]) -> None:
    engine, job_id = decided
    resume(engine, job_id, interrupt_after=["review"])  # review's checkpoint written, finalize not run
    assert engine.graph.get_state({"configurable": {"thread_id": job_id}}).next == ("finalize",)
    restart_and_check(make_engine, job_id)


def test_kill_before_the_review_steps_checkpoint_is_written(decided: tuple[Engine, str],
                                                            make_engine: Callable[..., Engine]) -> None:
    """The state the API kill test found (and the issue's symptom): the review step's result is
    saved as a pending write of the last checkpoint, the checkpoints after it are not (LangGraph
    writes them in the background), and finalize had already said `finalized`. LangGraph then
    shows no next step and no interrupt; the job once settled as the graph's `running`."""
    engine, job_id = decided
    resume(engine, job_id)
    config = {"configurable": {"thread_id": job_id}}
    at_review = next(h for h in engine.graph.get_state_history(config) if h.next == ("review",))
    cut = at_review.config["configurable"]["checkpoint_id"]
    with sqlite3.connect(engine.settings.data_dir / "jimoku.db") as conn:  # as if never written
        conn.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_id > ?", (job_id, cut))
        conn.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id > ?", (job_id, cut))
    snapshot = engine.graph.get_state(config)
    assert not snapshot.next and not snapshot.interrupts and snapshot.values["status"] == "running"
    restart_and_check(make_engine, job_id)


def test_kill_after_finalize_before_the_status_is_written(decided: tuple[Engine, str],
                                                         make_engine: Callable[..., Engine]) -> None:
    engine, job_id = decided
    resume(engine, job_id)  # the graph ended and said `finalized`; the job table still says awaiting
    restart_and_check(make_engine, job_id)


def test_kill_after_the_status_is_written_before_marking_applied(decided: tuple[Engine, str],
                                                                make_engine: Callable[..., Engine]) -> None:
    engine, job_id = decided
    resume(engine, job_id)
    engine.jobs.set_status(job_id, "approved")
    restart_and_check(make_engine, job_id)


def test_a_decided_job_left_running_is_finished_by_its_decision(decided: tuple[Engine, str],
                                                               make_engine: Callable[..., Engine]) -> None:
    """The issue's symptom: the table said `running` with the decision recorded; a restart re-queues
    it, and the run must finish it with the decision (not start a new attempt, not stay running)."""
    engine, job_id = decided
    resume(engine, job_id, interrupt_after=["review"])
    engine.jobs.set_status(job_id, "running")
    restart_and_check(make_engine, job_id)
