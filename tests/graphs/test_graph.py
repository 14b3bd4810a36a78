"""The graph end to end with a scripted LLM (the tools here are small real functions).

The real planner is exercised in tests/integration; here the LLM's replies are scripted
so each path through plan → execute → draft → check → review → finalize is pinned down.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from app.store.checkpointers import (
    postgres_checkpointer,
    setup_postgres_checkpointer,
    sqlite_checkpointer,
)
from graphs.cache import MemoryResultCache
from graphs.context import GraphContext
from graphs.graph import build_graph
from graphs.policy import Policy
from graphs.testing import ScriptedChatModel
from tools.context import ToolContext
from tools.registry import Registry, ToolResult, tool


class TextFound(ToolResult):
    text: str


calls: list[str] = []
calls_lock = threading.Lock()


@pytest.fixture(scope="module")
def reg() -> Registry:
    reg = Registry()

    @tool(accepts=["image", "document"], produces="text", registry=reg, name="ocr")
    def read_text(file: Path) -> TextFound:
        """Read printed text.

        Args:
            file: The photo.
        """
        with calls_lock:
            calls.append(f"ocr:{file.name}")
        text = file.read_text()
        return TextFound(text=text, summary=f'Read "{text}"', confidence=0.9)

    @tool(accepts=["audio"], produces="transcript", registry=reg, name="asr")
    def hear(file: Path) -> TextFound:
        """Transcribe speech.

        Args:
            file: The memo.
        """
        with calls_lock:
            calls.append(f"asr:{file.name}")
        text = file.read_text()
        return TextFound(text=text, summary=f'Heard "{text}"', confidence=0.8)

    @tool(accepts=["image"], registry=reg, name="broken")
    def broken(file: Path) -> ToolResult:
        """Always fails.

        Args:
            file: The photo.
        """
        raise RuntimeError("sensor offline")

    return reg


@pytest.fixture
def files(tmp_path: Path) -> list[dict[str, Any]]:
    plate = tmp_path / "plate.png"
    plate.write_text("SERIAL NO. AX-4471-B MODEL KX-200")
    memo = tmp_path / "memo.wav"
    memo.write_text("The serial number is B Q nine nine one two.")
    return [
        {"id": "f1", "name": "plate.png", "kind": "image", "sha256": "a" * 64},
        {"id": "f2", "name": "memo.wav", "kind": "audio", "sha256": "b" * 64},
    ]


def run(graph, ctx: GraphContext, job: dict[str, Any] | Command, thread: str = "job1") -> dict[str, Any]:
    return graph.invoke(job, {"configurable": {"thread_id": thread}}, context=ctx)


@pytest.fixture
def saver(tmp_path: Path, database_url: str | None) -> Iterator[BaseCheckpointSaver]:
    """The graph's checkpointer on both backends: a SQLite file, or PostgreSQL."""
    if database_url is None:
        yield sqlite_checkpointer(tmp_path / "graph.db")
        return
    setup_postgres_checkpointer(database_url)
    checkpointer = postgres_checkpointer(database_url)
    yield checkpointer
    checkpointer.conn.close()  # type: ignore[attr-defined]


def make(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver,
         replies: list[Any]) -> tuple[Any, GraphContext, ScriptedChatModel]:
    llm = ScriptedChatModel(list(replies))
    ctx = GraphContext(llm=llm, registry=reg, tool_ctx=ToolContext(model_dir=tmp_path), cache=MemoryResultCache(),
                       artifact_path=lambda a: tmp_path / a["name"])  # the files fixture's folder
    return build_graph(saver), ctx, llm


def test_review_interrupt_then_approve(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}, {"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "The serial number is AX-4471-B [s1].", "citations": ["s1"], "answerable": True}
    graph, ctx, llm = make(reg, tmp_path, saver, [plan, draft])
    out = run(graph, ctx, {"job_id": "job1", "question": "What is the serial?", "files": files[:1]})

    # The plan schema only allows registered tools and files of a kind each accepts.
    _, schema = llm.calls[0]
    options = schema["properties"]["steps"]["items"]["anyOf"]
    assert {o["properties"]["tool"]["const"]: o["properties"]["file"]["enum"] for o in options} == {
        "ocr": ["f1"], "broken": ["f1"]}
    # The duplicate step was dropped in code, and said so.
    assert [s["tool"] for s in out["plan"]] == ["ocr"]
    assert out["plan_notes"] == ["dropped a duplicate step: ocr on f1"]
    (interrupt,) = out["__interrupt__"]
    payload = interrupt.value
    assert payload["draft_answer"] == "The serial number is AX-4471-B [s1]."
    assert payload["flags"] == [] and payload["confidence"] == 0.9
    assert payload["evidence"][0]["summary"] == 'Read "SERIAL NO. AX-4471-B MODEL KX-200"'

    final = run(graph, ctx, Command(resume={"decision": "approve", "reviewer": "ana"}))
    assert final["status"] == "approved"
    assert final["final_answer"] == "The serial number is AX-4471-B [s1]."
    assert final["review"]["reviewer"] == "ana"
    assert {"planned", "executed", "drafted", "checked", "finalized"} <= set(final["timestamps"])


def test_conflict_between_memo_and_plate_goes_to_review_even_with_auto_approve(
    reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]
) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}, {"tool": "asr", "file": "f2"}]}
    draft = {"answer": "The plate says AX-4471-B.", "citations": ["s1"], "answerable": True}
    graph, ctx, _ = make(reg, tmp_path, saver, [plan, draft])
    out = run(graph, ctx, {"job_id": "j", "question": "Serial?", "files": files, "auto_approve": True})
    kinds = [f["kind"] for f in out["flags"]]
    assert kinds == ["conflict"]
    assert out["confidence"] == 0.45
    assert "__interrupt__" in out  # a flagged job always goes to a person

    edited = run(graph, ctx, Command(resume={"decision": "edit", "answer": "Check the machine: plate AX-4471-B, memo BQ9912."}))
    assert edited["status"] == "approved" and edited["final_answer"].startswith("Check the machine")


def test_auto_approve_without_flags(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "Model KX-200.", "citations": ["s1"], "answerable": True}
    graph, ctx, _ = make(reg, tmp_path, saver, [plan, draft])
    # A job's own request counts only for the case kinds the admin's policy lists (none by default).
    ctx.policy = lambda: (Policy(auto_approve_case_kinds=["ocr"]), 1)
    out = run(graph, ctx, {"job_id": "j", "question": "Model?", "files": files[:1], "auto_approve": True})
    assert "__interrupt__" not in out
    assert out["status"] == "approved" and out["review"]["decision"] == "auto_approve"


def test_unanswerable_reject_coverage_and_tool_error(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    # The planner picks only the broken tool; code adds OCR for the image and ASR for the memo? No:
    # the image is covered by "broken", so only the memo gets a coverage step.
    plan = {"steps": [{"tool": "broken", "file": "f1"}, {"tool": "nope", "file": "f1"}]}
    draft = {"answer": "The colour is not in the results.", "answerable": False}
    # Unanswered, so it looks again: the one untried pair (ocr on f1) runs without asking the
    # planner, and the second draft still cannot tell; nothing is left to try after that.
    graph, ctx, llm = make(reg, tmp_path, saver, [plan, draft, draft])
    out = run(graph, ctx, {"job_id": "j", "question": "What colour is the machine?", "files": files})
    assert [(s["tool"], s["file"], s["origin"], s["round"]) for s in out["plan"]] == [
        ("broken", "f1", "planner", 1), ("asr", "f2", "coverage", 1), ("ocr", "f1", "planner", 2)]
    assert [r["round"] for r in out["rounds"]] == [1, 2]
    assert len(llm.calls) == 3  # plan, draft, draft: round 2 needed no planner call
    assert any("unknown tool" in n for n in out["plan_notes"])
    broken = out["steps"][0]
    assert broken["ok"] is False and "sensor offline" in broken["error"]
    assert out["draft_answer"].startswith("Cannot tell: the evidence does not show")
    kinds = {f["kind"] for f in out["flags"]}
    assert {"tool_error", "unanswerable"} <= kinds
    final = run(graph, ctx, Command(resume={"decision": "reject", "comment": "needs a photo in colour"}))
    assert final["status"] == "rejected" and final["final_answer"] is None


def test_results_are_cached_by_content(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "Model KX-200.", "citations": ["s1"], "answerable": True}
    graph, ctx, _ = make(reg, tmp_path, saver, [plan, draft, plan, draft])
    calls.clear()
    first = run(graph, ctx, {"job_id": "a", "question": "Model?", "files": files[:1]}, thread="a")
    second = run(graph, ctx, {"job_id": "b", "question": "Model?", "files": files[:1]}, thread="b")
    assert calls == ["ocr:plate.png"]  # the same sha256 is read once
    assert first["steps"][0]["cached"] is False and second["steps"][0]["cached"] is True
    assert second["steps"][0]["summary"] == first["steps"][0]["summary"]


def test_invalid_review_decision_is_refused(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    from graphs.nodes import validate_decision

    with pytest.raises(ValueError, match="needs the corrected answer"):
        validate_decision({"decision": "edit"})
    with pytest.raises(ValueError, match="needs a reason"):
        validate_decision({"decision": "reject"})
    with pytest.raises(ValueError, match="'approve', 'edit' or 'reject'"):
        validate_decision({"decision": "maybe"})


def test_a_draft_with_unsupported_claims_is_asked_again(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    invented = {"answer": "The machine is blue and weighs 350 kg.", "citations": ["s1"], "answerable": True}
    honest = {"answer": "The evidence does not show the weight.", "citations": [], "answerable": False}
    graph, ctx, llm = make(reg, tmp_path, saver, [plan, invented, honest])
    out = run(graph, ctx, {"job_id": "j", "question": "How heavy is it?", "files": files[:1]})
    retry_messages, _ = llm.calls[2]
    assert retry_messages[-1]["role"] == "user" and "'350'" in retry_messages[-1]["content"]
    assert "'blue'" in retry_messages[-1]["content"]
    assert out["draft_revisions"] == 1 and out["draft_answer"] == "Cannot tell: The evidence does not show the weight."
    assert "unsupported_claim" not in {f["kind"] for f in out["flags"]}


def test_a_revision_that_is_no_better_is_not_taken(reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    invented = {"answer": "The plate says that it weighs about 350 kg in all.", "citations": ["s1"], "answerable": True}
    graph, ctx, _ = make(reg, tmp_path, saver, [plan, invented, invented])
    out = run(graph, ctx, {"job_id": "j", "question": "How heavy is it?", "files": files[:1]})
    assert out["draft_revisions"] == 0 and out["draft_answer"] == invented["answer"]
    assert "unsupported_claim" in {f["kind"] for f in out["flags"]}


def test_a_short_answer_still_unsupported_after_the_revision_becomes_a_refusal(
    reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]
) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    invented = {"answer": "black", "citations": ["s1"], "answerable": True}
    graph, ctx, _ = make(reg, tmp_path, saver, [plan, invented, invented])
    out = run(graph, ctx, {"job_id": "j", "question": "What colour is the machine's paint?", "files": files[:1]})
    assert out["draft_answer"] == "Cannot tell: the evidence does not show the answer."
    replaced = [f for f in out["flags"] if f["kind"] == "unsupported_claim"]
    assert len(replaced) == 1 and "'black'" in replaced[0]["message"] and "replaced by a refusal" in replaced[0]["message"]
    assert "__interrupt__" in out  # waits for a person


def test_looks_again_when_the_first_plan_does_not_answer(
    reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]
) -> None:
    """The planner sends a text question to the wrong tool; the check sends it back to plan,
    the second round reads the text, and the draft answers from it."""
    plan = {"steps": [{"tool": "broken", "file": "f1"}, {"tool": "asr", "file": "f2"}]}
    unanswered = {"answer": "The evidence does not show the model.", "citations": [], "answerable": False}
    answered = {"answer": "The model is KX-200.", "citations": ["s3"], "answerable": True}
    graph, ctx, _ = make(reg, tmp_path, saver, [plan, unanswered, answered])
    events: list[tuple[str, dict[str, Any]]] = []
    ctx.emit = lambda job, name, data: events.append((name, data))
    out = run(graph, ctx, {"job_id": "j2", "question": "Which model is it?", "files": files})
    assert out["draft_answer"] == "The model is KX-200."
    assert [(s["tool"], s["round"]) for s in out["plan"]] == [("broken", 1), ("asr", 1), ("ocr", 2)]
    assert out["rounds"][1]["round"] == 2 and "does not show" in out["rounds"][1]["reason"]
    assert ("replanned" in [name for name, _ in events])
    # Round 1's steps were not run again in round 2.
    assert [s["step"] for s in out["steps"]] == ["s1", "s2", "s3"]
    assert "unanswerable" not in {f["kind"] for f in out["flags"]}


def test_a_glance_tells_the_planner_the_image_holds_text_and_the_plan_reuses_it(
    reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]
) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "The model is KX-200.", "citations": ["s1"], "answerable": True}
    graph, ctx, llm = make(reg, tmp_path, saver, [plan, draft])
    ctx.glance = True
    calls.clear()
    out = run(graph, ctx, {"job_id": "g", "question": "What does it say?", "files": files[:1]})
    planner_prompt = llm.calls[0][0][-1]["content"]
    assert "f1: image file named \"plate.png\"; holds printed text" in planner_prompt
    assert "SERIAL NO. AX-4471-B" in out["glances"]["f1"]
    # The glance and the planned step are one tool call (same tool, arguments and file).
    assert calls == ["ocr:plate.png"] and out["steps"][0]["cached"] is True


def test_the_graph_answers_a_field_question_without_the_draft_llm(
        reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    graph, ctx, llm = make(reg, tmp_path, saver, [plan])  # no draft reply scripted
    ctx = dataclasses.replace(ctx, extractive_answers=True)
    out = run(graph, ctx, {"job_id": "j", "question": "Which model is on the plate?", "files": files[:1]})

    (interrupt,) = out["__interrupt__"]
    assert interrupt.value["draft_answer"] == "KX-200"
    assert interrupt.value["citations"] == ["s1"] and interrupt.value["flags"] == []
    assert len(llm.calls) == 1  # the plan only
    assert out["draft_source"] == "code"


def test_with_extractive_answers_off_the_llm_drafts_a_field_question(
        reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "The model is KX-200.", "citations": ["s1"], "answerable": True}
    graph, ctx, llm = make(reg, tmp_path, saver, [plan, draft])
    out = run(graph, ctx, {"job_id": "j", "question": "Which model is on the plate?", "files": files[:1]})

    assert out["draft_answer"] == "The model is KX-200." and out["draft_source"] == "llm"
    assert len(llm.calls) == 2


def test_a_field_question_is_planned_in_code_and_two_values_go_to_the_llm(
        reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    draft = {"answer": "The plate says AX-4471-B; the memo says BQ-9912.", "citations": ["s1", "s2"],
             "answerable": True}
    graph, ctx, llm = make(reg, tmp_path, saver, [draft])  # no plan reply scripted
    ctx = dataclasses.replace(ctx, field_plans=True, extractive_answers=True)
    out = run(graph, ctx, {"job_id": "j", "question": "What is the serial number?", "files": files})

    assert [(s["tool"], s["file"], s["origin"]) for s in out["plan"]] == [("ocr", "f1", "planner"),
                                                                          ("asr", "f2", "planner")]
    assert out["plan_notes"] == ["planned in code: the question asks for the serial number, read from the "
                                 "files' text and speech"]
    # The plate and the memo disagree, so the LLM drafts (its only call) and the check flags it.
    ((_, schema),) = llm.calls
    assert schema is not None and "answer" in schema["properties"]
    assert out["draft_source"] == "llm"
    assert "conflict" in {f["kind"] for f in out["flags"]}


def test_a_memo_alone_is_planned_in_code_since_one_tool_reads_it(
        reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    draft = {"answer": "It says the serial number is B Q nine nine one two.", "citations": ["s1"],
             "answerable": True}
    graph, ctx, llm = make(reg, tmp_path, saver, [draft])  # no plan reply scripted
    ctx = dataclasses.replace(ctx, field_plans=True)
    out = run(graph, ctx, {"job_id": "j", "question": "What does the memo say?", "files": files[1:]})

    assert [(s["tool"], s["file"]) for s in out["plan"]] == [("asr", "f2")]
    assert out["plan_notes"] == ["planned in code: each file has one tool that reads it"]
    assert len(llm.calls) == 1  # the draft only


def test_an_image_has_a_choice_of_tools_so_the_llm_plans_it(
        reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "It says SERIAL NO. AX-4471-B MODEL KX-200.", "citations": ["s1"], "answerable": True}
    graph, ctx, llm = make(reg, tmp_path, saver, [plan, draft])
    ctx = dataclasses.replace(ctx, field_plans=True)
    out = run(graph, ctx, {"job_id": "j", "question": "What does the plate say?", "files": files[:1]})

    assert [(s["tool"], s["file"]) for s in out["plan"]] == [("ocr", "f1")]
    assert out["plan_notes"] == [] and len(llm.calls) == 2


def test_a_draft_that_only_restates_the_question_is_asked_again_and_flagged_if_it_still_does(
        reg: Registry, tmp_path: Path, saver: BaseCheckpointSaver, files: list[dict[str, Any]]) -> None:
    question = "Which machine does the memo say is broken?"
    echo = {"answer": "The memo says the machine is broken.", "citations": ["s1"], "answerable": True}
    honest = {"answer": "The evidence does not show which machine is broken.", "citations": [], "answerable": False}
    graph, ctx, llm = make(reg, tmp_path, saver, [echo, honest])
    ctx = dataclasses.replace(ctx, field_plans=True)  # a memo alone: planned in code, no plan reply
    out = run(graph, ctx, {"job_id": "j", "question": question, "files": files[1:]})
    retry_messages, _ = llm.calls[1]
    assert "only repeats the question" in retry_messages[-1]["content"]
    assert out["draft_revisions"] == 1 and out["draft_answer"] == f"Cannot tell: {honest['answer']}"
    assert "restates_question" not in {f["kind"] for f in out["flags"]}

    graph, ctx, _ = make(reg, tmp_path, saver, [echo, echo])
    # Even where the policy would approve a memo's answer by rule, an echo goes to a person:
    # as the refusal it is, with the echo in its flag.
    ctx = dataclasses.replace(ctx, field_plans=True, policy=lambda: (Policy(auto_approve_case_kinds=["asr"]), 1))
    out = run(graph, ctx, {"job_id": "j2", "question": question, "files": files[1:], "auto_approve": True}, "job2")
    assert out["draft_answer"] == "Cannot tell: the evidence does not show the answer."
    assert sorted(f["kind"] for f in out["flags"]) == ["restates_question", "unanswerable"]
    echoed = next(f for f in out["flags"] if f["kind"] == "restates_question")
    assert echo["answer"] in echoed["message"]
    assert "__interrupt__" in out
