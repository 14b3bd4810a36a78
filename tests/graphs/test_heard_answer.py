"""A memo that names the machine a "which machine …" question asks about is answered in code."""

from __future__ import annotations

from graphs.heard_answer import named_subject_answer
from graphs.state import StepResult

QUESTION = "Which machine does the memo say is overheating?"


def _step(text: str, step: str = "s1", produces: str = "transcript") -> StepResult:
    return StepResult(step=step, tool="asr", produces=produces, file="f1", ok=True, summary=f'"{text}"',
                      confidence=0.8, result={"text": text}, error=None, error_kind=None, duration_ms=1.0,
                      cached=False)


def test_the_named_machine_is_the_answer_cited_to_its_memo() -> None:
    found = named_subject_answer(QUESTION, [_step("Machine KX200 is overheating on line one. Please send a technician.")])
    assert found is not None
    assert (found.answer, found.citations) == ("Machine KX200", ["s1"])
    spelled = named_subject_answer("Which pump is leaking?", [_step("Pump P 7 is leaking badly.")])
    assert spelled is not None and spelled.answer == "Pump P 7"


def test_two_memos_naming_the_same_machine_cite_both() -> None:
    found = named_subject_answer(QUESTION, [_step("Machine KX-200 is overheating."),
                                            _step("machine KX200 was overheating again.", step="s2")])
    assert found is not None and found.citations == ["s1", "s2"]


def test_anything_doubtful_is_left_to_the_draft() -> None:
    cases = [
        "Machine KX200 is overheating. Machine LP120 is overheating too.",  # two machines
        "Machine KX200 is not overheating.",  # a negation
        "The old machine is overheating.",  # no code
        "Machine KX200 is overheeting.",  # the verb only as a near-spelling
        "Line four is overheating.",  # not the noun asked about
        "Machine KX200 stopped.",  # the verb not said
    ]
    for text in cases:
        assert named_subject_answer(QUESTION, [_step(text)]) is None, text
    memo = [_step("Machine KX200 is overheating.")]
    assert named_subject_answer("What does the memo say is overheating?", memo) is None  # not "which <noun>"
    assert named_subject_answer("Is machine KX200 overheating?", memo) is None  # yes/no
    assert named_subject_answer(QUESTION, [_step("Machine KX200 is overheating.", produces="text")]) is None
    plate = _step("MODEL KX200", step="s2", produces="text")
    assert named_subject_answer(QUESTION, [*memo, plate]) is None  # not only memos: the draft compares
