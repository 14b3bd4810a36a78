"""Retrieval over evidence lines: long documents, Japanese, transcripts, a real 30-page PDF."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import tools.ocr  # noqa: F401  registers the tool even when the package is not installed
from graphs.retrieval import (
    FTS5,
    Line,
    _rank_bm25,
    _rank_fts5,
    evidence_lines,
    relevant_lines,
    render_lines,
    tokens,
)
from graphs.state import StepResult
from tests.fixtures.images import render_pdf_with_text_layer
from tools.context import ToolContext
from tools.registry import Registry
from tools.runner import run_tool

ANSWER = "Operating temperature range: 10 C to 50 C"
QUESTION = "What is the operating temperature range of the unit?"
_NOUNS = ["housing", "gasket", "flange", "bracket", "terminal", "cable", "fuse", "panel", "valve", "rotor",
          "bearing", "seal", "sensor", "relay", "connector", "filter", "enclosure", "fan", "label", "bolt"]
_VERBS = ["be torqued to", "be inspected for", "withstand", "carry", "be replaced after", "conform to"]
# Near misses: the question's words, but not its answer.
_NEAR = ["Storage temperature: -20 C to 60 C", "Operating instructions are given in section 4",
         "Temperature sensors are calibrated every 12 months", "Range of accessories: see catalogue B"]


def step(sid: str, produces: str, result: dict[str, Any] | None, *, tool: str = "ocr", ok: bool = True) -> StepResult:
    return StepResult(step=sid, tool=tool, produces=produces, file="f1", ok=ok, summary="", confidence=0.9,
                      result=result, error=None if ok else "boom", error_kind=None if ok else "crash",
                      duration_ms=1.0, cached=False)


def spec_pages(n_pages: int = 30, per_page: int = 60, answer_at: tuple[int, int] = (27, 4)) -> list[list[str]]:
    """A long specification: numbered clauses of spec-speak, a few near misses, one answer."""
    rng = random.Random(12)
    pages = [[f"{p}.{i} The {rng.choice(_NOUNS)} shall {rng.choice(_VERBS)} {rng.randint(2, 900)} "
              f"{rng.choice(['N', 'mm', 'kPa', 'h', 'cycles'])} per clause {rng.randint(1, 30)}.{rng.randint(1, 60)}"
              for i in range(1, per_page + 1)] for p in range(1, n_pages + 1)]
    for k, near in enumerate(_NEAR):
        pages[(3 + 5 * k) % n_pages][10] = near
    pages[answer_at[0] - 1][answer_at[1] - 1] = ANSWER
    return pages


def ocr_result(pages: list[list[str]]) -> dict[str, Any]:
    """The shape of `tools.ocr.OcrResult` (as the runner dumps it), without running OCR."""
    return {"text": "\n\n".join("\n".join(p) for p in pages), "lang": "eng", "pages": [
        {"page": n, "source": "text_layer", "width": 2480, "height": 3508, "words": [],
         "lines": [{"text": t, "confidence": 1.0, "box": [0, 0, 10, 10]} for t in p]}
        for n, p in enumerate(pages, 1)]}


def test_answer_on_page_27_of_30_is_found_and_cited() -> None:
    lines = evidence_lines([step("s1", "text", ocr_result(spec_pages()))])
    assert len(lines) == 1800

    found = relevant_lines(QUESTION, lines)

    assert [ln.ref for ln in found if ln.text == ANSWER] == ["s1:p27:l4"]
    assert {"s1:p27:l3", "s1:p27:l5"} <= {ln.ref for ln in found}  # one line of context either side
    assert len(found) <= 12 * 3
    assert found == sorted(found, key=lambda ln: (ln.page or 0, ln.line))  # document order
    assert "[s1:p27:l4] Operating temperature range: 10 C to 50 C" in render_lines(found).splitlines()


def test_both_rankers_put_the_answer_first() -> None:
    lines = evidence_lines([step("s1", "text", ocr_result(spec_pages()))])
    docs, query = [tokens(ln.text) for ln in lines], tokens(QUESTION)
    answer = next(i for i, ln in enumerate(lines) if ln.text == ANSWER)
    assert FTS5  # this Python's SQLite has it; the in-code ranker is the fallback
    assert _rank_fts5(docs, query, 12)[0] == answer
    assert _rank_bm25(docs, query, 12)[0] == answer
    assert _rank_fts5(docs, [], 12) == _rank_bm25(docs, [], 12) == []


def test_a_labelled_field_counts_as_a_term() -> None:
    pages = spec_pages(5, 40, answer_at=(2, 4))
    pages[3][7], pages[3][8] = "SERIAL NO. AX-4471-B", "MODEL KX-200"
    lines = evidence_lines([step("s1", "text", ocr_result(pages))])
    hits = _rank_fts5([tokens(ln.text) for ln in lines], tokens("What is the model number?"), 1)
    assert lines[hits[0]].text == "MODEL KX-200"
    found = relevant_lines("型式は？ serial", lines, limit=2, context=0)
    assert "SERIAL NO. AX-4471-B" in [ln.text for ln in found]


def test_japanese_flyer() -> None:
    flyer = ["令和6年度 働き方改革セミナーのご案内", "6月は環境月間です", "9月は防災月間です",
             "11月はテレワーク月間です", "会場:市民会館 大ホール", "参加費:無料",
             "申込:ＦＡＸまたはメール", "定員:１２０名(先着順)", "主催:商工会議所",
             "お問い合わせ:０３-１２３４-５６７８"]
    topics = ["安全衛生", "労務管理", "人材育成", "情報セキュリティ", "省エネルギー", "品質管理"] * 6
    filler = [f"第{i}回 {w}について" for i, w in enumerate(topics, 1)]
    pages = [filler[:18] + flyer[:5], flyer[5:] + filler[18:]]
    lines = evidence_lines([step("s1", "text", ocr_result(pages))])

    question = "このチラシによると、テレワーク月間は何月ですか？"
    found = relevant_lines(question, lines)

    assert "[s1:p1:l22] 11月はテレワーク月間です" in render_lines(found).splitlines()
    # The best single line is the answer, not the other months (月間です) nor the header (チラシ: none).
    assert [ln.ref for ln in relevant_lines(question, lines, limit=1, context=0)] == ["s1:p1:l22"]
    # Full-width digits and letters match their ASCII forms (NFKC).
    assert [ln.ref for ln in relevant_lines("定員は120名ですか", lines, limit=1, context=0)] == ["s1:p2:l3"]
    assert [ln.text for ln in relevant_lines("FAXで申し込めますか", lines, limit=1, context=0)] == [flyer[6]]


def test_transcript_segments_are_cited_with_their_times() -> None:
    said = [f"item {i}: the {random.Random(i).choice(_NOUNS)} count is {i * 7}" for i in range(1, 41)]
    said[30] = " The maintenance window starts at 2 am on Sunday. "
    segments = [{"start": 5.0 * i, "end": 5.0 * i + 4.5, "text": t, "confidence": 0.8} for i, t in enumerate(said)]
    steps = [step("s1", "detections", {"counts": {"person": 2}}, tool="detect"),
             step("s2", "transcript", {"text": " ".join(said), "segments": segments}, tool="asr")]

    found = relevant_lines("When does the maintenance window start?", evidence_lines(steps), context=1)

    answer = next(ln for ln in found if "maintenance" in ln.text)
    assert (answer.ref, answer.page, answer.line, answer.start, answer.end) == ("s2:t31", None, 31, 150.0, 154.5)
    assert answer.text == "The maintenance window starts at 2 am on Sunday."
    assert "[s2:t31] (150.0-154.5 s) The maintenance window starts at 2 am on Sunday." in render_lines(found)
    assert {"s2:t30", "s2:t32"} <= {ln.ref for ln in found}


def test_short_evidence_is_returned_whole() -> None:
    lines = evidence_lines([step("s1", "text", {"text": "SERIAL NO. AX-4471-B\n\nMODEL KX-200\n200V 50Hz"})])
    assert [ln.ref for ln in lines] == ["s1:l1", "s1:l3", "s1:l4"]  # blank line 2 keeps its number
    assert relevant_lines("Is it raining?", lines) == lines


def test_only_successful_steps_with_lines_count() -> None:
    page = {"page": 3, "source": "ocr", "width": 10, "height": 10, "words": [],
            "lines": [{"text": "A", "confidence": 0.9, "box": None}, {"text": "  ", "confidence": 0.1, "box": None},
                      {"text": " B ", "confidence": 0.9, "box": None}]}
    steps = [step("s1", "text", None, ok=False), step("s2", "report", {"text": "not lines"}, tool="plugin"),
             step("s3", "text", {"text": "A\n\nB", "pages": [page]}, tool="reader")]  # keyed by produces
    lines = evidence_lines(steps)
    assert [(ln.ref, ln.text) for ln in lines] == [("s3:p3:l1", "A"), ("s3:p3:l3", "B")]
    assert dataclasses.asdict(lines[0])["ref"] == "s3:p3:l1"
    assert relevant_lines("nothing shared", [Line("s1", 1, i, "zzz") for i in range(1, 20)]) == []


def test_real_30_page_pdf_through_the_ocr_tool(tmp_path: Path, registry: Registry, tool_ctx: ToolContext) -> None:
    pdf = render_pdf_with_text_layer(tmp_path / "spec.pdf", spec_pages(), size=8)  # 60 lines fit on A4 at 8 pt
    ctx = tool_ctx  # the default page limit (40) reads a 30-page specification to its end
    spec = registry.get("ocr")

    run = run_tool(spec, pdf, {"lang": "eng"}, ctx)
    assert run.ok, run.error
    assert run.result is not None and len(run.result["pages"]) == 30
    lines = evidence_lines([step("s1", spec.produces, run.result)])

    found = relevant_lines(QUESTION, lines)

    assert [ln.ref for ln in found if ln.text == ANSWER] == ["s1:p27:l4"]


def test_a_question_for_a_value_prefers_the_line_that_holds_one() -> None:
    """A data sheet repeats the question's words in prose; the answer line is the one with numbers."""
    pages = spec_pages(6, 60, answer_at=(5, 31))
    pages[2][47] = "instrument operating temperature range, variable"
    pages[4][30] = "Temperature Operating 10°C to 50°C (50°F to 122°F)"
    lines = evidence_lines([step("s1", "text", ocr_result(pages))])
    found = relevant_lines("What is the operating temperature range of the controller?", lines, limit=1, context=0)
    assert [ln.text for ln in found] == ["Temperature Operating 10°C to 50°C (50°F to 122°F)"]


def test_plurals_and_units_match_their_plain_forms() -> None:
    assert tokens("sets the voltage to 10.00V") == tokens("set the voltage to 10.00 V")
    assert "hold" in tokens("holds over 110,000 notes") and "note" in tokens("notes")


def test_a_decimal_is_one_term_and_thousands_separators_do_not_split_a_number() -> None:
    assert "10.00" in tokens("set to 10.00V") and "00" not in tokens("set to 10.00V")
    assert tokens("holds 110,000 notes") == tokens("holds 110000 notes")
    # A manual's many "36.00V" lines no longer match "10.00 V" by their "00": the line that
    # names the command for the question's words is found first.
    manual = ["Meaning: voltage set high limit is", "36.00V", "Input Command: GVSL [CR]",
              "Meaning: Voltage set low limit is", "1.00V", "Input Command: GISH [CR]",
              "Set output voltage Input Command: VOLT 1000[CR]", "Return Value: [OK][CR]",
              "Meaning: Set voltage value is", "10.00V"] * 3
    lines = evidence_lines([step("s1", "text", ocr_result([manual]))])
    found = relevant_lines("Which command sets the output voltage to 10.00 V?", lines, limit=4, context=0)
    assert {ln.text for ln in found} == {"10.00V", "Set output voltage Input Command: VOLT 1000[CR]"}


def test_british_spellings_match_american_ones() -> None:
    assert tokens("my favourite colour, grey aluminium") == tokens("my favorite color, gray aluminum")
    assert tokens("the supply's output") == tokens("the supply output")


def test_text_from_another_file_finds_the_lines_it_names() -> None:
    receipt = ["Order 113533", "Cashier: Eric H", "1 Grande Meal", "9.90", "12 Crunchy Taco", "0.00",
               "3 Cheese Pizza", "10.47", "SubTotal", "117.25", "Tax", "11.02", "Total", "128.27"] * 2
    lines = evidence_lines([step("s1", "text", ocr_result([receipt]))])
    question = "The speaker names his favourite dish. Does this receipt include that kind of food?"
    assert relevant_lines(question, lines, limit=2) == []  # no line shares a word with the question
    found = relevant_lines(question, lines, limit=2, related="Tacos al pastor are my favorite.")
    assert "12 Crunchy Taco" in [ln.text for ln in found]
