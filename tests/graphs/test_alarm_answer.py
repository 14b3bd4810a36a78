"""A yes/no fall question whose only falls are below the floor is answered "not certain" by code."""

from __future__ import annotations

from graphs.alarm_answer import uncertain_fall_answer
from tests.graphs.test_answer_checks import detect_step, text_step

FALL = frozenset({"Fall"})


def test_falls_all_below_the_floor_are_answered_not_certain_with_their_numbers() -> None:
    steps = [detect_step([("Fall", 0.59), ("Fall", 0.38), ("Normal", 0.9)])]
    found = uncertain_fall_answer("Is anyone lying on the floor?", steps, FALL, 0.6)
    assert found is not None and found.citations == ["s1"]
    assert found.answer == ("Not certain: the detector found 2 possible fall(s) (highest confidence 0.59, "
                            "below the 0.60 floor); a person should look.")
    ja = uncertain_fall_answer("誰か倒れていますか？", steps, FALL, 0.6)
    assert ja is not None and ja.answer.startswith("確かではありません。") and "0.59" in ja.answer
    # The policy's floor for the class wins over the service's.
    assert uncertain_fall_answer("Has anyone fallen down?", steps, FALL, 0.6, {"Fall": 0.5}) is None


def test_a_sure_fall_no_fall_or_another_question_goes_to_the_llm() -> None:
    weak = [detect_step([("Fall", 0.4)])]
    assert uncertain_fall_answer("Has anyone fallen?", [detect_step([("Fall", 0.4), ("Fall", 0.8)])], FALL, 0.6) is None
    assert uncertain_fall_answer("Has anyone fallen?", [detect_step([("Normal", 0.9)])], FALL, 0.6) is None
    assert uncertain_fall_answer("How many people are in the photo?", weak, FALL, 0.6) is None
    assert uncertain_fall_answer("Who has fallen?", weak, FALL, 0.6) is None  # not a yes/no question
    assert uncertain_fall_answer("Has anyone fallen?", weak, frozenset(), 0.6) is None  # falls raise no alarm here
    assert uncertain_fall_answer("Has anyone fallen?", [text_step("s1", "FALL HAZARD")], FALL, 0.6) is None
