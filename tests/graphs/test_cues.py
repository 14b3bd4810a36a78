"""Questions whose words send their pictures to one tool are planned in code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graphs.cues import image_cue
from graphs.planner import cue_plan, make_plan
from graphs.testing import ScriptedChatModel
from tools.registry import Registry, ToolResult, tool


def _registry(*, plugin: str | None = None) -> Registry:
    reg = Registry()

    @tool(accepts=["image", "document"], produces="text", registry=reg, name="ocr")
    def ocr(file: Path) -> ToolResult:
        """Read printed text.

        Args:
            file: The picture.
        """
        return ToolResult(summary="")

    @tool(accepts=["image"], produces="detections", registry=reg, name="detect")
    def detect(file: Path) -> ToolResult:
        """Find people.

        Args:
            file: The picture.
        """
        return ToolResult(summary="")

    @tool(accepts=["audio"], produces="transcript", registry=reg, name="asr")
    def asr(file: Path) -> ToolResult:
        """Transcribe speech.

        Args:
            file: The memo.
        """
        return ToolResult(summary="")

    if plugin is not None:
        @tool(accepts=["image"], produces=plugin, registry=reg, name="plugin")
        def extra(file: Path) -> ToolResult:
            """A plugin's own reading of a picture.

            Args:
                file: The picture.
            """
            return ToolResult(summary="")

    return reg


PHOTO = {"id": "f1", "kind": "image", "name": "a.jpg"}
MEMO = {"id": "f2", "kind": "audio", "name": "m.ogg"}


@pytest.mark.parametrize(("question", "cue"), [
    ("Is the voice memo about the machine on this nameplate?", "text"),
    ("What is written on the sign by the gate?", "text"),
    ("Read this water meter: how many whole cubic metres does the counter show?", "text"),
    ("このチラシによると、テレワーク月間は何月ですか？", "text"),
    ("この銘板の製造番号は？", "text"),
    ("How many people are in this photo?", "people"),
    ("Has anyone fallen down?", "people"),
    ("The shift lead says 6 workers are at the bus stop. Is that right?", "people"),
    ("倒れている人はいますか？", "people"),
    ("写真に何人いますか？", "people"),
    # Both, or neither: the planner chooses.
    ("Is anyone standing in front of the sign?", None),
    ("What is the highest value on this pressure gauge's PSI scale?", None),
    ("What is wrong here?", None),
    ("Is the manual about the machine?", "text"),  # "man" inside a word is not a man
])
def test_the_question_words_point_to_text_or_people(question: str, cue: str | None) -> None:
    assert image_cue(question) == cue


def test_a_nameplate_and_a_memo_are_read_and_heard_without_the_planner() -> None:
    llm = ScriptedChatModel([])  # any plan request would fail: nothing is scripted
    steps, notes = make_plan(llm, "Is the voice memo about the machine on this nameplate?", [MEMO, PHOTO],
                             _registry(), None, field_plans=True)
    assert [(s["tool"], s["file"]) for s in steps] == [("asr", "f2"), ("ocr", "f1")]
    assert notes == ["planned in code: the question asks about the text in the pictures"]
    assert llm.calls == []


def test_a_people_question_goes_to_the_detector() -> None:
    assert cue_plan("How many people are in this photo?", [PHOTO], _registry()) == [{"tool": "detect", "file": "f1"}]


@pytest.mark.parametrize("question", ["What is wrong here?", "Is anyone standing in front of the sign?"])
def test_with_no_clear_cue_the_planner_plans(question: str) -> None:
    plan: dict[str, Any] = {"steps": [{"tool": "detect", "file": "f1"}]}
    llm = ScriptedChatModel([plan])
    steps, notes = make_plan(llm, question, [PHOTO], _registry(), None, field_plans=True)
    assert [(s["tool"], s["file"]) for s in steps] == [("detect", "f1")]
    assert notes == [] and len(llm.calls) == 1


@pytest.mark.parametrize("produces", ["report", "text"])
def test_a_plugin_that_reads_pictures_leaves_the_choice_to_the_planner(produces: str) -> None:
    # A report tool is another kind of reading; a second text reader is a choice of engine.
    assert cue_plan("What is written on the sign?", [PHOTO], _registry(plugin=produces)) is None


def test_the_before_configuration_keeps_the_llm_plan() -> None:
    llm = ScriptedChatModel([{"steps": [{"tool": "ocr", "file": "f1"}]}])
    make_plan(llm, "What is written on the sign?", [PHOTO], _registry(), None, field_plans=False)
    assert len(llm.calls) == 1
