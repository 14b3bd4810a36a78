from __future__ import annotations

import pytest

from graphs.answer_checks import restates_question, wrong_field
from graphs.answer_text import is_refusal, plainly_refused, refusal, with_counter


@pytest.mark.parametrize(("question", "answer", "expected"), [
    ("このチラシによると、テレワーク月間は何月ですか？", "11", "11月"),
    ("このチラシによると、テレワーク月間は何月ですか？", "１１。", "11月"),  # full-width digits
    ("部屋には何人いますか？", "3", "3人"),
    ("ラインに何台ありますか", "12", "12台"),
    ("テレワーク月間は何月ですか？", "11月", "11月"),  # already has it
    ("テレワーク月間は何月ですか？", "11月です。", "11月です。"),  # a sentence is left alone
    ("定格電圧は何ですか？", "200", "200"),  # 何 without a counter asks for a thing
    ("How many people are in the room?", "3", "3"),
    ("Which month is telework month?", "11", "11"),
])
def test_a_bare_number_answering_a_japanese_counter_question_gets_the_counter(
        question: str, answer: str, expected: str) -> None:
    assert with_counter(question, answer) == expected


def test_a_refusal_opens_with_cannot_tell_in_the_questions_language() -> None:
    assert plainly_refused("What colour is it?", "The evidence does not show the colour.") == (
        "Cannot tell: The evidence does not show the colour.")
    assert plainly_refused("色は何ですか？", "The evidence does not show the colour.") == (
        "分かりません。The evidence does not show the colour.")
    # Already plain, or not a refusal: unchanged.
    assert plainly_refused("What colour?", "Cannot tell: the evidence does not show it.") == (
        "Cannot tell: the evidence does not show it.")
    assert plainly_refused("What colour?", "It is blue.") == "It is blue."


def test_code_written_refusals_are_refusals_to_the_checks() -> None:
    for question in ("Which machine is broken?", "どの機械が壊れていますか？"):
        text = refusal(question)
        assert is_refusal(text)
        assert restates_question(question, text) == []
        assert wrong_field("What is the serial number?", text, []) == []
    assert refusal("どの機械が壊れていますか？").startswith("分かりません")
    assert is_refusal("わかりません。") and not is_refusal("It is the press.")
