"""The evaluation: scoring rules, the summary, and one real case through `jimoku eval`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from app.evaluation.cases import load_cases
from app.evaluation.metrics import CaseScore, answer_matches, summarise

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("answer", "accept", "right"),
    [
        ("The serial number is AX-4471-B.", ["AX-4471-B"], True),
        ("Serial: ax 4471 b", ["AX-4471-B"], True),
        ("The serial number is AX-4471.", ["AX-4471-B"], False),
        ("There are 4 people.", ["4", "four"], True),
        ("Serial AX-4471-B.", ["4"], False),  # a bare number must stand alone
        ("Four people are standing.", ["4", "four"], True),
        ("The evidence does not show the colour.", ["does not show"], True),
        ("It needs 200 V.", ["200V", "200 V"], True),
        ("No.", ["no ", "no,"], True),  # "no " means the word, and a one-word answer is it
        ("Nothing was found.", ["no ", "no,"], False),
    ],
)
def test_answer_matching(answer: str, accept: list[str], right: bool) -> None:
    assert answer_matches(answer, accept) is right


def score(i: int, correct: bool, conf: float, planned: list, expected: list, flagged: bool, expected_flag: bool) -> CaseScore:
    return CaseScore(id=f"c{i}", kind="k", status="awaiting_review", correct=correct, planned=planned, expected=expected,
                     conflict_expected=expected_flag, conflict_flagged=flagged, confidence=conf, seconds=float(i),
                     tool_errors=[], answer="", flags=[])


def test_summary_counts() -> None:
    ocr, asr = ["ocr", "f1"], ["asr", "f1"]
    s = summarise([
        score(1, True, 0.9, [ocr], [ocr], False, False),
        score(2, False, 0.3, [ocr, asr], [asr], True, False),
        score(3, True, 0.85, [], [ocr], True, True),
        score(4, True, 0.5, [asr], [asr], False, True),
    ])
    assert s["accuracy"] == 0.75
    assert s["tool_selection"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75, "tp": 3, "fp": 1, "fn": 1}
    assert s["conflict_flags"]["precision"] == 0.5 and s["conflict_flags"]["recall"] == 0.5
    top = next(b for b in s["calibration"] if b["bucket"] == "0.8-1.0")
    assert top == {"bucket": "0.8-1.0", "cases": 2, "mean_confidence": 0.875, "accuracy": 1.0}


def test_gold_set_is_complete() -> None:
    cases = load_cases(ROOT / "eval" / "cases")
    assert len(cases) >= 40
    assert {c.kind for c in cases} >= {"nameplate_en", "nameplate_ja", "drawing", "memo", "people",
                                       "memo+nameplate", "unanswerable"}
    assert any(c.conflict for c in cases) and any(not c.conflict and c.kind == "memo+nameplate" for c in cases)


@pytest.mark.slow
def test_jimoku_eval_runs_a_case_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    kept = tmp_path / "kept"

    def evaluate() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", "eval", "--only", "plate-serial-1", "--out", str(out),
                               "--data-dir", str(kept)], cwd=ROOT, capture_output=True, text=True, timeout=600)

    run = evaluate()
    assert run.returncode == 0, run.stderr
    (report,) = out.glob("*.json")
    doc = json.loads(report.read_text())
    (case,) = doc["runs"][0]["cases"]
    assert case["id"] == "plate-serial-1" and case["correct"] and case["planned"] == [["ocr", "f1"]]
    assert {p.suffix for p in out.iterdir()} == {".json", ".md", ".png"}
    assert "| answer accuracy | 1.000 |" in run.stdout
    # --data-dir keeps the run's folder: a second run finds the first one's job (and tool results) there.
    assert evaluate().returncode == 0
    with closing(sqlite3.connect(kept / "default" / "jimoku.db")) as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone() == (2,)
