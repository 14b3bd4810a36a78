"""Values read in code: spoken numbers, labels, ratings, counts, conflicts, grounding."""

from __future__ import annotations

import pytest

from graphs.consistency import confidence, conflicts, count_mismatch, tool_flags
from graphs.evidence import count_in_question, labelled_values, norm_code, spoken_to_text
from graphs.grounding import compute_facts, unsupported_claims
from graphs.state import StepResult

# What the built-in tools produce; the checks read `produces`, never the tool's name.
PRODUCES = {"ocr": "text", "asr": "transcript", "detect": "detections"}


def step(sid: str, tool: str, *, text: str | None = None, counts: dict[str, int] | None = None,
         ok: bool = True, confidence: float | None = 0.9, error: str | None = None,
         produces: str | None = None) -> StepResult:
    result: dict | None = None
    if ok:
        result = {"text": text} if text is not None else {"counts": counts or {}}
    return StepResult(step=sid, tool=tool, produces=produces or PRODUCES.get(tool, "report"), file="f1", ok=ok, summary=text or "", confidence=confidence,
                      result=result, error=error, error_kind=None if ok else "crash", duration_ms=1.0, cached=False)


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("The serial number is A X four four seven one.", "The serial number is AX4471."),
        ("serial A X 4 4 7 1 dash B", "serial AX4471-B"),
        ("It needs two hundred volts at fifty hertz", "It needs 200 volts at 50 hertz"),
        ("model number K X two hundred", "model number KX200"),
        ("I am 5 feet tall and fine", "I am 5 feet tall and fine"),
        ("one thousand two hundred and five parts", "1205 parts"),
    ],
)
def test_spoken_to_text(spoken: str, expected: str) -> None:
    assert spoken_to_text(spoken) == expected


def test_labelled_values_on_plate_and_japanese() -> None:
    plate = "SERIAL NO. AX-4471-B\nMODEL KX-200\n200V 50Hz"
    assert labelled_values(plate) == {"serial number": "AX-4471-B", "model": "KX-200"}
    assert labelled_values("製造番号 AX-4471") == {"serial number": "AX-4471"}
    assert labelled_values("nothing labelled here") == {}
    assert norm_code("ax-4471 b") == "AX4471B"


def test_count_in_question() -> None:
    assert count_in_question("Are there 3 people at the press?") == 3
    assert count_in_question("I see five workers, is anyone down?") == 5
    assert count_in_question("How many people are there?") is None


def test_memo_and_plate_disagree_on_serial() -> None:
    steps = [step("s1", "ocr", text="SERIAL NO. AX-4471-B\nMODEL KX-200"),
             step("s2", "asr", text="The serial number is B Q nine nine one two.")]
    (flag,) = conflicts(steps)
    assert flag["kind"] == "conflict" and flag["steps"] == ["s1", "s2"]
    assert "AX-4471-B" in flag["message"] and "BQ9912" in flag["message"]


def test_memo_and_plate_agree_despite_spelling() -> None:
    steps = [step("s1", "ocr", text="SERIAL NO. AX-4471-B\n200V 50Hz"),
             step("s2", "asr", text="Serial number A X four four seven one B, two hundred volts.")]
    assert conflicts(steps) == []


def test_ratings_conflict() -> None:
    steps = [step("s1", "ocr", text="MODEL KX-200\n200V 50Hz"),
             step("s2", "asr", text="This one takes four hundred volts.")]
    (flag,) = conflicts(steps)
    assert flag["message"].startswith("voltage differs")


def test_count_mismatch_and_tool_flags() -> None:
    steps = [step("s1", "detect", counts={"Normal": 4, "Fall": 0}),
             step("s2", "ocr", ok=False, error="the image file is truncated"),
             step("s3", "ocr", text="faint", confidence=0.3)]
    (mismatch,) = count_mismatch("Are all 3 operators standing?", steps)
    assert "says 3 people; the detector found 4" in mismatch["message"]
    assert count_mismatch("Are all 4 operators standing?", steps) == []
    kinds = [f["kind"] for f in tool_flags(steps, 0.6)]
    assert kinds == ["tool_error", "low_confidence"]


def test_confidence_formula() -> None:
    steps = [step("s1", "ocr", text="A", confidence=0.9), step("s2", "ocr", text="B", confidence=0.4)]
    score, explained = confidence(steps, ["s1"], [])
    assert score == 0.9 and "geometric mean of s1" in explained
    score, _ = confidence(steps, [], [])
    assert score == pytest.approx(0.6, abs=1e-3)  # sqrt(0.9 * 0.4)
    flagged, explained = confidence(steps, ["s1"], [{"kind": "conflict", "message": "", "steps": []}])
    assert flagged == 0.45 and "× 0.5 (conflict)" in explained
    assert confidence([], [], [])[0] == 0.0


def test_grounding_catches_invented_values() -> None:
    steps = [step("s1", "ocr", text="SERIAL NO. AX-4471-B\nMODEL KX-200"),
             step("s2", "detect", counts={"Normal": 3, "Fall": 0})]
    facts = compute_facts(steps, [{"id": "f1", "name": "plate.jpg", "kind": "image", "sha256": ""}])
    assert any("3 people: 3 standing, 0 fallen. No one has fallen." in f for f in facts)
    assert any("serial number AX-4471-B; model KX-200" in f for f in facts)
    assert unsupported_claims("Model KX-200, serial AX-4471-B [s1]; 3 people, no one has fallen.", steps, facts) == []
    problems = unsupported_claims("The plate is blue, serial AX-9999, and one worker has fallen.", steps, facts)
    assert any("'AX-9999'" in p for p in problems)
    assert any("'blue'" in p for p in problems)
    assert any("someone fell" in p for p in problems)


def test_misheard_letters_are_an_uncertain_match_not_a_conflict() -> None:
    plate = step("s1", "ocr", text="SERIAL NO. BR-2290-C")
    for heard, kind in [("The serial number is GR290C.", "uncertain_match"),
                        ("The serial number is BR2290C.", None),
                        ("The serial number is TW6650H.", "conflict")]:
        flags = conflicts([plate, step("s2", "asr", text=heard)])
        assert [f["kind"] for f in flags] == ([kind] if kind else []), heard
    # Two printed sources get no such leniency: one letter off is a conflict.
    (flag,) = conflicts([plate, step("s2", "ocr", text="SERIAL NO. BR-2290-G")])
    assert flag["kind"] == "conflict"


def test_a_tool_without_text_speaks_through_its_summary() -> None:
    gauge = StepResult(step="s1", tool="pressure_gauge", produces="report", file="f1", ok=True, summary="The needle points at 4.2 bar.",
                       confidence=0.9, result={"summary": "The needle points at 4.2 bar.", "bar": 4.2},
                       error=None, error_kind=None, duration_ms=1.0, cached=False)
    facts = compute_facts([gauge], [{"id": "f1", "name": "g.png", "kind": "image", "sha256": ""}])
    assert facts == ['s1 (pressure_gauge on f1 "g.png"): reported: "The needle points at 4.2 bar."']
    assert unsupported_claims("The gauge shows 4.2 bar.", [gauge], facts) == []
    assert unsupported_claims("The gauge shows 5.1 bar.", [gauge], facts) == ["the value '5.1' appears in no tool result"]


def test_a_plugin_transcript_gets_the_heard_vs_read_checks_of_the_builtin() -> None:
    """Spoken-number normalisation and the near-miss rule follow `produces`, not the name."""
    plate = step("s1", "plate_reader", produces="text", text="SERIAL NO. AX-4471-B")
    heard = step("s2", "memo_listener", produces="transcript", text="The serial number is A X four four seven one B.")
    assert conflicts([plate, heard]) == []
    near = step("s2", "memo_listener", produces="transcript", text="The serial number is A X four four seven seven B.")
    (flag,) = conflicts([plate, near])
    assert flag["kind"] == "uncertain_match"
    # The same near miss between two readers is a plain conflict (nothing was heard).
    (flag,) = conflicts([plate, step("s2", "plate_reader", produces="text", text="SERIAL NO. AX-4477-B")])
    assert flag["kind"] == "conflict"


def test_a_memo_that_counts_aloud_is_compared_with_the_detector() -> None:
    memo = step("s1", "asr", text="One, two, three.")
    two = step("s2", "detect", counts={"Normal": 2})
    (flag,) = count_mismatch("Does the photo show as many people as the memo counts?", [memo, two])
    assert flag["kind"] == "count_mismatch" and "counts 3" in flag["message"]
    assert count_mismatch("Same number?", [memo, step("s2", "detect", counts={"Normal": 3})]) == []
    # A memo that says numbers without counting states no count.
    assert count_mismatch("Same?", [step("s1", "asr", text="Press 4 runs at 200 volts."), two]) == []


def test_a_count_between_the_detectors_sure_and_full_counts_is_uncertain_not_a_conflict() -> None:
    # A room photo: seven detections, three of them more likely a person than not.
    room = step("s2", "detect", counts={"Normal": 7})
    room["result"]["detections"] = [{"cls": "Normal", "confidence": c}  # type: ignore[index]
                                    for c in (0.69, 0.58, 0.54, 0.42, 0.41, 0.35, 0.28)]
    question = "Does the photo show as many people as the memo counts?"
    (flag,) = count_mismatch(question, [step("s1", "asr", text="One, two, three."), room])
    assert flag["kind"] == "uncertain_match"
    assert flag["message"] == "the memo in s1 counts 3; the detector found 7, 3 of them with confidence ≥ 0.5"
    (flag,) = count_mismatch(question, [step("s1", "asr", text="One, two."), room])
    assert flag["kind"] == "count_mismatch" and flag["message"].endswith("found 7 (3 with confidence ≥ 0.5)")
    (flag,) = count_mismatch("Are all 8 operators standing?", [room])
    assert flag["kind"] == "count_mismatch"
    (flag,) = count_mismatch("Are all 5 operators standing?", [room])
    assert flag["kind"] == "uncertain_match"
    # A detector giving counts without per-detection confidences: its counts are taken as sure.
    (flag,) = count_mismatch("Are all 3 operators standing?", [step("s1", "detect", counts={"Normal": 4})])
    assert flag["kind"] == "count_mismatch"
