"""The code-written plan and answer of a field question, through the real service (real OCR,
the real llama.cpp model: for a question for one field with one value it is never called)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.images import render_nameplate
from tests.fixtures.server import Server, running_server, wait_for_status

pytestmark = pytest.mark.slow

ON = {"JIMOKU_EXTRACTIVE_ANSWERS": "1", "JIMOKU_FIELD_PLANS": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("code-paths") / "data", extra_env=ON) as server:
        yield server


def _job(server: Server, question: str, plate: Path) -> dict:
    client = server.client("submitter")
    response = client.post("/v1/jobs", data={"question": question},
                           files=[("files", (plate.name, plate.read_bytes()))])
    assert response.status_code == 202, response.text
    return wait_for_status(client, response.json()["id"], {"awaiting_review", "failed"})


def _events(server: Server, job_id: str) -> dict[str, dict]:
    rows = server.sql(f"SELECT event, data FROM job_events WHERE job_id = '{job_id}' ORDER BY id")
    return {event: json.loads(data) for event, data in rows}


def test_a_serial_question_is_planned_and_answered_by_code(server: Server, tmp_path: Path) -> None:
    plate = render_nameplate(tmp_path / "p.png")  # a name that hints at nothing

    doc = _job(server, "What is the serial number on this plate?", plate)

    assert doc["status"] == "awaiting_review"
    assert [(s["tool"], s["file"]) for s in doc["plan"]] == [("ocr", "f1")]
    assert doc["plan_notes"][0].startswith("planned in code: the question asks for the serial number")
    assert doc["draft_answer"] == "AX-4471-B" and doc["draft_source"] == "code"
    assert doc["citations"] == ["s1"] and doc["flags"] == []
    events = _events(server, doc["id"])
    assert events["planned"]["llm"] is None  # no LLM call planned it
    assert events["drafted"]["draft_source"] == "code" and "llm" not in events["drafted"]
    # Still a person's call: the default policy sends it to review.
    assert doc["routing"]["route"] == "human"


def test_a_yes_no_question_about_a_field_is_planned_by_code_and_drafted_by_the_llm(
        server: Server, tmp_path: Path) -> None:
    plate = render_nameplate(tmp_path / "p.png")

    doc = _job(server, "Is the serial number on this plate AX-4471-B?", plate)

    assert doc["status"] == "awaiting_review"
    assert [(s["tool"], s["file"]) for s in doc["plan"]] == [("ocr", "f1")]
    assert doc["draft_source"] == "llm"
    events = _events(server, doc["id"])
    assert events["planned"]["llm"] is None
    (call, *_) = events["drafted"]["llm"]  # llama.cpp's own counters: the cached prefix was not evaluated again
    assert call["completion_tokens"] > 0 and 0 < call["prompt_evaluated"] <= call["prompt_tokens"]
