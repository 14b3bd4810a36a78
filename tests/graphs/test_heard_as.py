"""The phrase a transcript has in the place of the question's wh-word, as a fact for the draft."""

from __future__ import annotations

from graphs.drafting import draft_facts
from graphs.heard_as import heard_as
from graphs.state import StepResult


def _heard(text: str, produces: str = "transcript") -> list[StepResult]:
    return [StepResult(step="s1", tool="asr", produces=produces, file="f1", ok=True, summary=f'"{text}"',
                       confidence=0.8, result={"text": text}, error=None, error_kind=None, duration_ms=1.0,
                       cached=False)]


def test_the_subject_of_the_asked_verb_is_the_answer_not_the_last_noun() -> None:
    facts = heard_as("This memo was recorded next to a jackhammer. What does the speaker say lingers?",
                     _heard("It was loud in there. The still smell of cold beer lingers."))
    assert facts == ['s1: the transcript says "The still smell of cold beer lingers": '
                     'so what lingers: "The still smell of cold beer"']


def test_a_misheard_verb_is_found_by_its_spelling_and_named() -> None:
    facts = heard_as("In this voice memo, what counselled him?",
                     _heard("Stuffed into you, his belly countled him."))
    assert facts == ['s1: the transcript says "his belly countled": so what counselled him: "his belly" '
                     '("countled" heard for "counselled")']


def test_japanese_wh_phrase_lines_up_with_what_was_said_between_shared_anchors() -> None:
    facts = heard_as("この音声では、風で何がなぎ倒されたと言っていますか？",
                     _heard("台風が来ました。強い風で舞い看板もなぎたをされてしまったようです。"))
    assert len(facts) == 1
    assert "「舞い看板も」 is in the place of the question's 「何が」" in facts[0]
    assert "「なぎたをされ」 heard for 「なぎ倒され」" in facts[0]


def test_nothing_is_said_when_the_transcript_does_not_hold_the_asked_verb() -> None:
    belly = _heard("Stuffed into you, his belly countled him.")
    assert heard_as("Which machine does the worker say is broken in this voice memo?", belly) == []
    assert heard_as("Who does the speaker call the apostle of the middle classes?",
                    _heard("Mr. Quilter is the apostle of the middle classes.")) == []  # an object question
    assert heard_as("What counselled him?", _heard("His belly countled him.", produces="text")) == []  # not speech


def test_the_draft_is_given_it_among_its_facts() -> None:
    facts = draft_facts("Which machine does the memo say is overheating?",
                        _heard("Machine KX200 is overheating on line one, please send a technician."), [])
    assert 's1: the transcript says "Machine KX200 is overheating": so what is overheating: "Machine KX200"' in facts
