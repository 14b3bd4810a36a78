"""A yes/no question whether the files agree is answered from the comparisons code made."""

from __future__ import annotations

from graphs.comparison_answer import comparison_answer
from tests.graphs.test_answer_checks import detect_step, text_step

ABOUT = "Is the voice memo about the machine on this nameplate?"
PLATE = "ACME PRESS\nMODEL KX-200\nSERIAL NO. AX-4471-B"


def memo(said: str) -> list:
    return [text_step("s1", said, produces="transcript", file="f1"), text_step("s2", PLATE, file="f2")]


def test_the_same_serial_heard_and_read_is_yes_a_near_miss_probably_another_no() -> None:
    same = comparison_answer(ABOUT, memo("The press with serial number AX 4471B is leaking."))
    assert same is not None and same.citations == ["s1", "s2"]
    assert same.answer == "Yes: the serial number AX4471B (s1) and AX-4471-B (s2) match."
    close = comparison_answer(ABOUT, memo("The press with serial number AX 4471G is leaking."))
    assert close is not None and close.answer.startswith("Probably yes: the serial number AX4471G (s1) and AX-4471-B")
    other = comparison_answer("Does the serial in the memo match the plate?",
                              memo("The press with serial number QZ 9012F is leaking."))
    assert other is not None and other.answer == "No: the serial number QZ9012F (s1) and AX-4471-B (s2) differ."
    ja = comparison_answer("音声メモの製造番号は銘板と一致していますか？",
                           memo("The press with serial number QZ 9012F is leaking."))
    assert ja is not None and ja.answer == "いいえ。製造番号のQZ9012F（s1）とAX-4471-B（s2）は異なります。"


def test_a_count_said_or_asked_is_compared_with_the_detector() -> None:
    photo = detect_step([("person", 0.9), ("person", 0.8), ("person", 0.3)], file="f2")
    counted = [text_step("s2", "One, two.", produces="transcript", file="f1"), photo]
    found = comparison_answer("Does the photo show the same number of people the memo counts?", counted)
    assert found is not None and found.answer.startswith("Probably yes: the memo in s2 counts 2 and the detector (s1) found 3 (2")
    assert found.answer.endswith("(some of the detections are unsure: a person should look).")
    asked = comparison_answer("The shift lead says 6 workers are here. Is that right?", [photo])
    assert asked is not None and asked.answer.startswith("No: the question says 6 people")


def test_other_questions_and_evidence_with_nothing_compared_go_to_the_llm() -> None:
    heard = memo("The press with serial number AX 4471B is leaking.")
    assert comparison_answer("Is the machine in the memo leaking?", heard) is None  # not about agreement
    assert comparison_answer("Which serial number does the memo give, and does it match?", heard) is None
    assert comparison_answer(ABOUT, memo("The press on line two is leaking.")) is None  # nothing to compare
    # Two readings of the same page agreeing say nothing about whether two files match.
    one_page = [text_step("s1", PLATE), text_step("s2", PLATE)]
    assert comparison_answer("Do the serial numbers match?", one_page) is None
