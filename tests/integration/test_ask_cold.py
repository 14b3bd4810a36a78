"""`jimoku ask` from a fresh process, as a user's first command: it says where its time went,
and a field question that code plans and answers never loads the planner (the real CLI, real
OCR, the real 1.5B planner for the open question)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.images import render_nameplate

pytestmark = pytest.mark.slow


def ask_fresh(tmp_path: Path, question: str, plate: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIMOKU_")}
    env.update(JIMOKU_DATA_DIR=str(tmp_path / "data"), JIMOKU_ENTRY_POINTS="0", JIMOKU_FIELD_PLANS="1",
               JIMOKU_EXTRACTIVE_ANSWERS="1")
    done = subprocess.run([sys.executable, "-m", "app", "ask", "--json", question, str(plate)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def test_a_field_question_from_a_fresh_process_never_loads_the_planner(tmp_path: Path) -> None:
    plate = render_nameplate(tmp_path / "plate.png")
    doc = ask_fresh(tmp_path, "What is the serial number on this plate?", plate)

    assert doc["draft_answer"] == "AX-4471-B" and doc["draft_source"] == "code"
    timing = doc["timing"]
    assert timing["planner_load_s"] == 0 and timing["planner_loaded_early"] is False
    assert timing["process_s"] is not None and timing["process_s"] >= timing["job_s"] > 0


def test_an_open_question_reports_the_planner_load_inside_its_time(tmp_path: Path) -> None:
    plate = render_nameplate(tmp_path / "plate.png")
    doc = ask_fresh(tmp_path, "What does this plate say about the machine?", plate)

    assert doc["draft_source"] == "llm" and doc["status"] == "awaiting_review"
    timing = doc["timing"]
    assert 0 < timing["planner_load_s"] < timing["job_s"] <= timing["process_s"]
    # The draft needs the planner, so it was loading while intake and the OCR step ran.
    assert timing["planner_loaded_early"] is True
