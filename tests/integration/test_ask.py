"""The whole graph with the real planner (Qwen2.5-Coder-1.5B on llama.cpp) and real tools.

Fixtures are made here (Pillow nameplates, flite memos, the photos that ship inside
Ultralytics), so the right answer is known. The model runs at temperature 0.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine import Engine
from app.settings import Settings
from tests.fixtures.audio import flite_wav
from tests.fixtures.images import render_nameplate
from tools.registry import REGISTRY, ToolResult, tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    engine = Engine(settings)
    engine.llm.load()  # type: ignore[attr-defined]
    return engine


@pytest.fixture(scope="module")
def nameplate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_nameplate(tmp_path_factory.mktemp("img") / "nameplate.png")


def ask(engine: Engine, question: str, *files: Path, auto_approve: bool = False) -> dict:
    job = engine.submit(question, [(f, f.name) for f in files], auto_approve=auto_approve)
    engine.run(job.id)
    return engine.document(job.id)


def planned(doc: dict) -> set[tuple[str, str]]:
    return {(s["tool"], s["file"]) for s in doc["plan"] if s["origin"] == "planner"}


def test_nameplate_serial(engine: Engine, nameplate: Path) -> None:
    doc = ask(engine, "Which model is on the plate, and what is its serial number?", nameplate)
    assert ("ocr", "f1") in planned(doc)
    assert doc["status"] == "awaiting_review"
    assert "AX-4471-B" in doc["draft_answer"] and "KX-200" in doc["draft_answer"]
    assert doc["flags"] == []
    assert doc["confidence"] > 0.7

    job = engine.review(doc["id"], {"decision": "approve", "reviewer": "test"})
    assert job.status == "approved"
    assert engine.state(doc["id"])["final_answer"] == doc["draft_answer"]


def test_memo_names_another_serial(engine: Engine, nameplate: Path, tmp_path: Path) -> None:
    memo = flite_wav("The serial number of the broken press is B Q 9 9 1 2.", tmp_path / "memo.wav")
    doc = ask(engine, "Is the memo about the machine on this nameplate?", nameplate, memo, auto_approve=True)
    tools = {s["tool"] for s in doc["steps"] if s["ok"]}
    assert {"ocr", "asr"} <= tools
    conflicts = [f for f in doc["flags"] if f["kind"] == "conflict"]
    assert conflicts, doc["flags"]
    # Whisper may hear "BQ9912" or "B9912": either way it is not the plate's serial.
    assert "AX-4471-B" in conflicts[0]["message"] and "9912" in conflicts[0]["message"]
    # Flagged, so a person decides even though auto-approval was asked for.
    assert doc["status"] == "awaiting_review"


def test_people_are_counted(engine: Engine) -> None:
    spec = importlib.util.find_spec("ultralytics")
    bus = Path(next(iter(spec.submodule_search_locations))) / "assets" / "bus.jpg"
    doc = ask(engine, "How many people are in this photo, and has anyone fallen?", bus)
    assert ("detect", "f1") in planned(doc)
    detect = next(s for s in doc["steps"] if s["tool"] == "detect")
    people = sum(detect["result"]["counts"].values())
    answer = doc["draft_answer"].lower()
    assert str(people) in answer or ["zero", "one", "two", "three", "four", "five", "six"][people] in answer
    assert not [f for f in doc["flags"] if f["kind"] == "unsupported_claim"], doc["flags"]


def test_question_no_tool_can_answer(engine: Engine, nameplate: Path) -> None:
    doc = ask(engine, "What colour is the machine's paint?", nameplate, auto_approve=True)
    kinds = {f["kind"] for f in doc["flags"]}
    assert "does not show" in doc["draft_answer"].lower() or "unsupported_claim" in kinds, doc["draft_answer"]
    assert kinds & {"unanswerable", "unsupported_claim"}
    assert doc["status"] == "awaiting_review"


class Pressure(ToolResult):
    bar: float


@pytest.fixture
def gauge_tool() -> Iterator[str]:
    @tool(accepts=["image"], timeout=10)
    def pressure_gauge(file: Path) -> Pressure:
        """Read the pressure in bar shown by the needle of an analogue pressure gauge (manometer).

        Args:
            file: Photo of the gauge face.
        """
        return Pressure(bar=4.2, summary="The gauge needle points at 4.2 bar.", confidence=0.9)

    yield "pressure_gauge"
    REGISTRY.remove("pressure_gauge")


def test_plugin_tool_is_planned(engine: Engine, gauge_tool: str, tmp_path: Path) -> None:
    photo = render_nameplate(tmp_path / "gauge.png", ["0  2  4  6  8", "bar"])
    doc = ask(engine, "What pressure does the manometer on this photo show?", photo)
    assert (gauge_tool, "f1") in planned(doc)
    assert "4.2" in doc["draft_answer"]
