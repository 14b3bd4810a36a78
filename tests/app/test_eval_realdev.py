"""The realdev set in `jimoku eval`: its scoring rule, tool families, loader and report.

None of this needs ../shared: the cases are written into tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from app import cli_eval
from app.evaluation import realdev
from app.evaluation.cases import GoldCase
from app.evaluation.metrics import CaseScore, score_case, summarise
from app.evaluation.realdev import called_families, family, family_pr, is_right, load_realdev, norm
from app.evaluation.report import markdown

# -- the answer rule (realdev/README.md, "Scoring rule") -------------------------------------

@pytest.mark.parametrize(
    ("answer", "accept", "reject", "right"),
    [
        ("The phone number is 714-879-3574.", ["(714) 879-3574"], [], True),
        ("電話番号は(714) 879-3574です。", ["714 879 3574"], [], True),
        ("打ち上げ費用はおよそ１００億円です。", ["100億"], ["1000億", "10億"], True),
        ("およそ1000億円です。", ["100億"], ["1000億", "10億"], False),  # reject overrides
        ("費用は10億円。", ["100億"], ["1000億", "10億"], False),
        ("The evidence does not show anyone lying down.", ["no", "not"], ["yes"], True),
        ("Yes, someone is lying on the floor.", ["no", "nobody"], ["yes", "someone is lying"], False),
        ("YES.", ["fallen"], ["yes"], False),  # case-insensitive reject
        ("The total paid was $128.27.", ["128.27"], [], True),
        ("The total paid was $117.25.", ["128.27"], [], False),
        ("テレワーク月間は11月です。", ["11月"], ["10月", "12月"], True),
        ("テレワーク月間は１２月です。", ["11月"], ["10月", "12月"], False),  # NFKC before the reject search
        ("Operating range: 10 °C – 50 °C.", ["10°C–50°C"], [], True),  # spaces and dashes removed
        ("10℃～50℃で動作します。", ["10℃～50℃"], [], True),
    ],
)
def test_is_right(answer: str, accept: list[str], reject: list[str], right: bool) -> None:
    assert is_right(accept, reject, answer) is right


def test_reject_no_does_not_fire_inside_not() -> None:
    assert realdev.reject_hits("The evidence does not show it.", ["no"]) == []
    assert realdev.reject_hits("No, it does not.", ["no"]) == ["no"]
    assert realdev.reject_hits("No1 is there", ["no"]) == []  # a digit after it: not a whole word
    assert realdev.reject_hits("いいえ、看板ではありません", ["看板"]) == ["看板"]  # inside Japanese text
    assert is_right(["not"], ["no"], "It is not the same.") is True


def test_norm_is_the_readme_one() -> None:
    assert norm("(714) 879-3574") == norm("714-879-3574") == "7148793574"
    assert norm("１００億") == norm("100億") == "100億"
    assert norm("VOLT 1000") == "volt1000"
    assert norm("10〜50") == "1050"


# -- tool families --------------------------------------------------------------------------

def test_family_is_what_the_tool_produces() -> None:
    assert family({"tool": "my_ocr_plugin", "produces": "text"}) == "ocr"
    assert family({"tool": "whisper2", "produces": "transcript"}) == "asr"
    assert family({"tool": "yolo", "produces": "detections"}) == "detect"
    assert family({"tool": "ocr"}) == "ocr"  # no `produces` on the step: the tool's name
    assert family({"tool": "gauge", "produces": "report"}) == "gauge"
    doc = {"steps": [{"tool": "ocr", "produces": "text"}, {"tool": "detect"}, {"tool": "ocr2", "produces": "text"}]}
    assert called_families(doc) == ["detect", "ocr"]


@pytest.mark.parametrize(
    ("called", "expected", "pr"),
    [
        ([], [], (1.0, 1.0)),  # empty on both sides counts 1 for both
        (["ocr"], ["ocr"], (1.0, 1.0)),
        (["ocr", "detect"], ["ocr"], (0.5, 1.0)),
        (["asr"], ["asr", "detect"], (1.0, 0.5)),
        (["detect"], [], (0.0, 1.0)),  # a tool where none can answer costs precision only
        (["detect"], ["ocr"], (0.0, 0.0)),
    ],
)
def test_family_precision_recall(called: list[str], expected: list[str], pr: tuple[float, float]) -> None:
    assert family_pr(called, expected) == pr


# -- the loader -----------------------------------------------------------------------------

def _realdev(tmp_path: Path, cases: list[dict[str, Any]] | None = None) -> Path:
    root = tmp_path / "realdev"
    (root / "media").mkdir(parents=True)
    img = Image.new("RGB", (160, 48), "white")
    ImageDraw.Draw(img).text((8, 16), "S/N AX-4471", fill="black")
    img.save(root / "media" / "plate.png")
    (root / "media" / "memo.wav").write_bytes(b"RIFF")  # the loader only checks it exists
    base = {"kind": "sign", "question": "What does the plate say?", "files": ["media/plate.png"],
            "expected_tools": ["ocr"], "accept": ["AX-4471"], "reject": ["AX-4417"],
            "conflict": False, "unanswerable": False, "hard": False}
    cases = cases if cases is not None else [
        {**base, "id": "dev_plate"},
        {**base, "id": "dev_x", "kind": "crossmodal", "files": ["media/memo.wav", "media/plate.png"],
         "expected_tools": ["asr", "ocr"], "accept": ["no"], "reject": ["yes"], "conflict": True, "hard": True},
    ]
    (root / "cases.json").write_text(json.dumps([{**base, **c} for c in cases], ensure_ascii=False))
    return root


def test_loader_reads_cases_in_place(tmp_path: Path) -> None:
    root = _realdev(tmp_path)
    plate, x = load_realdev(root)
    assert isinstance(plate, GoldCase) and plate.set == "realdev"
    assert plate.files == ((root / "media" / "plate.png").resolve(),)
    assert plate.expected_families == frozenset({"ocr"}) and plate.expected_tools == frozenset()
    assert plate.accept == ("AX-4471",) and plate.reject == ("AX-4417",) and not plate.hard
    assert x.expected_families == frozenset({"asr", "ocr"}) and x.conflict and x.hard
    assert [f.name for f in x.files] == ["memo.wav", "plate.png"]
    assert [c.id for c in load_realdev(root, {"crossmodal"})] == ["dev_x"]
    assert [c.id for c in load_realdev(root, {"dev_plate"})] == ["dev_plate"]
    # the wrapped form, {"cases": [...]}, reads too
    (root / "cases.json").write_text(json.dumps({"cases": json.loads((root / "cases.json").read_text())}))
    assert len(load_realdev(root)) == 2


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"files": ["media/gone.jpg"]}, FileNotFoundError, "gone.jpg"),
        ({"expected_tools": ["vision"]}, ValueError, "unknown tool families"),
    ],
)
def test_loader_refuses_bad_cases(tmp_path: Path, change: dict[str, Any], error: type[Exception], match: str) -> None:
    root = _realdev(tmp_path, [{"id": "dev_bad", **change}])
    with pytest.raises(error, match=match):
        load_realdev(root)


def test_loader_needs_every_field(tmp_path: Path) -> None:
    root = _realdev(tmp_path)
    (root / "cases.json").write_text(json.dumps([{"id": "dev_short", "question": "?", "files": []}]))
    with pytest.raises(ValueError, match="missing"):
        load_realdev(root)
    with pytest.raises(FileNotFoundError, match="--realdev"):
        load_realdev(tmp_path / "nowhere")


# -- scoring a job document -----------------------------------------------------------------

def _doc(answer: str, steps: list[dict[str, Any]], flags: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {"status": "awaiting_review", "draft_answer": answer, "confidence": 0.8,
            "plan": [{"tool": s["tool"], "file": s["file"], "origin": "planner"} for s in steps],
            "steps": [{"ok": True, **s} for s in steps], "flags": [{"kind": k} for k in flags], **extra}


def test_score_case_realdev(tmp_path: Path) -> None:
    plate, x = load_realdev(_realdev(tmp_path))
    s = score_case(plate, _doc("It says AX-4471.", [{"tool": "ocr", "file": "f1", "produces": "text"},
                                                     {"tool": "detect", "file": "f1"}]), 2.5)
    assert s.correct and s.set == "realdev" and s.families == ["detect", "ocr"]
    assert (s.tool_precision, s.tool_recall) == (0.5, 1.0) and s.rounds == 1
    assert s.called == [["detect", "f1"], ["ocr", "f1"]]
    s = score_case(x, _doc("Yes, no difference.", [{"tool": "asr", "file": "f1"}], ("count_mismatch",),
                           rounds=[{"round": 1}, {"round": 2, "why": "nothing relevant"}]), 9.0)
    assert not s.correct and s.rejected_by == ["yes"] and s.conflict_flagged and s.conflict_expected
    assert s.rounds == 2 and (s.tool_precision, s.tool_recall) == (1.0, 0.5) and s.hard
    later = _doc("AX-4471", [{"tool": "ocr", "file": "f1"}])
    later["plan"][0]["round"] = 3  # no `rounds` list: the plan's steps say their round
    assert score_case(plate, later, 1.0).rounds == 3
    failed = score_case(plate, {"status": "failed", "error": "rejected at submission: too big"}, 0.1)
    assert not failed.correct and failed.error and failed.families == []


def test_gold_scoring_is_unchanged() -> None:
    gold = GoldCase(id="g", kind="nameplate_en", question="?", files=(), expected_tools=frozenset({("ocr", "f1")}),
                    accept=("AX-4471-B",), conflict=False, unanswerable=False)
    s = score_case(gold, _doc("Serial AX-4471-B, not AX-4471.", [{"tool": "ocr", "file": "f1"}]), 1.0)
    assert s.correct and s.planned == [["ocr", "f1"]] and s.expected == [["ocr", "f1"]] and s.set == "gold"
    assert s.expected_families is None and s.tool_precision is None
    summary = summarise([s])
    assert summary["tool_selection"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 1, "fp": 0, "fn": 0}
    assert summary["accuracy_not_hard"] == 1.0 and summary["cases_hard"] == 0


def _score(i: int, correct: bool, hard: bool, families: list[str], expected: list[str], flagged: bool,
           conflict: bool, rounds: int = 1) -> CaseScore:
    p, r = family_pr(families, expected)
    return CaseScore(id=f"d{i}", kind="k", status="awaiting_review", correct=correct, planned=[], expected=[],
                     conflict_expected=conflict, conflict_flagged=flagged, confidence=0.5, seconds=float(i),
                     tool_errors=[], answer="", flags=[], set="realdev", hard=hard, families=families,
                     expected_families=expected, tool_precision=p, tool_recall=r, rounds=rounds)


def test_realdev_summary() -> None:
    s = summarise([
        _score(1, True, False, ["ocr"], ["ocr"], False, False),
        _score(2, False, True, ["ocr", "detect"], ["ocr"], True, False),
        _score(3, True, False, ["asr"], ["asr", "detect"], True, True, rounds=2),
        _score(4, False, False, ["detect"], [], False, False),
    ])
    assert s["set"] == "realdev" and s["accuracy"] == 0.5
    assert (s["cases_not_hard"], s["accuracy_not_hard"], s["accuracy_hard"]) == (3, 0.667, 0.0)
    # per-case P (1, .5, 1, 0) and R (1, 1, .5, 1) averaged; the sums beside them
    assert s["tool_selection"] == {"precision": 0.625, "recall": 0.875, "f1": 0.729, "tp": 3, "fp": 2, "fn": 1}
    assert s["conflict_flags"]["precision"] == 0.5 and s["conflict_flags"]["recall"] == 1.0
    assert s["rounds"] == {"mean": 1.25, "jobs_with_more_than_one": 1, "right_with_more_than_one": 1}
    with pytest.raises(ValueError, match="one set"):
        summarise([_score(1, True, False, [], [], False, False),
                   CaseScore(id="g", kind="k", status="x", correct=True, planned=[], expected=[],
                             conflict_expected=False, conflict_flagged=False, confidence=None, seconds=1.0,
                             tool_errors=[], answer="", flags=[])])


def test_report_puts_the_sets_side_by_side() -> None:
    gold = CaseScore(id="g1", kind="k", status="awaiting_review", correct=True, planned=[["ocr", "f1"]],
                     expected=[["ocr", "f1"]], conflict_expected=False, conflict_flagged=False, confidence=0.9,
                     seconds=3.0, tool_errors=[], answer="AX | 1", flags=[], called=[["ocr", "f1"]], families=["ocr"])
    dev = _score(1, False, True, ["detect"], ["ocr"], False, False)
    runs = [{"model": "m", "set": name, "summary": summarise([sc]), "cases": [vars(sc)]}
            for name, sc in (("gold", gold), ("realdev", dev))]
    md = markdown(runs)
    assert "| metric | gold | realdev |" in md
    assert "| answer accuracy | 1.000 | 0.000 |" in md
    assert "| accuracy, cases not hard | 1.000 (1) | – (0) |" in md
    assert "| g1 |  | right | AX \\| 1 | ocr:f1 | ocr:f1 | – | 1 | 3.0 |" in md
    assert "| d1 | yes | wrong |" in md and "## realdev" in md


# -- the command ----------------------------------------------------------------------------

def test_eval_command_runs_both_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--set and --realdev pick the cases; the report has one run per set (no model needed)."""
    gold_dir = tmp_path / "gold"
    (gold_dir / "files").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(gold_dir / "files" / "p.png")
    (gold_dir / "cases.json").write_text(json.dumps({"cases": [
        {"id": "g1", "kind": "nameplate_en", "question": "?", "files": ["p.png"], "expected_tools": [["ocr", "f1"]],
         "accept": ["AX"], "conflict": False, "unanswerable": False}]}))
    root = _realdev(tmp_path)
    seen: list[list[str]] = []

    def fake_run(cases: list[GoldCase], **_: Any) -> list[CaseScore]:
        seen.append([c.id for c in cases])
        return [score_case(c, _doc("AX-4471, no.", [{"tool": "ocr", "file": "f1", "produces": "text"}]), 1.0)
                for c in cases]

    monkeypatch.setattr(cli_eval, "run_cases", fake_run)
    monkeypatch.setattr(cli_eval, "write", lambda runs, out, stem: (
        (out / f"{stem}.json").parent.mkdir(parents=True, exist_ok=True),
        (out / f"{stem}.json").write_text(json.dumps({"runs": runs})),
        {ext: out / f"{stem}.{ext}" for ext in ("json", "md", "png")})[-1])
    app = typer.Typer()
    app.command()(cli_eval.evaluate)
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["--cases", str(gold_dir), "--realdev", str(root), "--out", str(out), "--stem", "r"])
    assert run.exit_code == 0, run.output
    assert seen == [["g1", "dev_plate", "dev_x"]]  # one engine for both sets
    runs = json.loads((out / "r.json").read_text())["runs"]
    assert [(r["set"], r["summary"]["cases"]) for r in runs] == [("gold", 1), ("realdev", 2)]
    assert "| metric | gold | realdev |" in run.output

    seen.clear()
    run = CliRunner().invoke(app, ["--cases", str(gold_dir), "--realdev", str(root), "--out", str(out),
                                   "--stem", "r", "--set", "realdev", "--only", "crossmodal"])
    assert run.exit_code == 0, run.output
    assert seen == [["dev_x"]]
    # no realdev folder: the default is the gold set alone
    seen.clear()
    run = CliRunner().invoke(app, ["--cases", str(gold_dir), "--realdev", str(tmp_path / "none"), "--out", str(out),
                                   "--stem", "r"])
    assert run.exit_code == 0, run.output
    assert seen == [["g1"]]
