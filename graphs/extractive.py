"""Answers code can give without the LLM: one labelled field, one value in the evidence.

"What is the serial number on this plate?" has one right answer when the evidence labels
exactly one serial number: the value after the label. Code reads it exactly, at no cost,
where the 1.5B drafter takes seconds and can still copy the wrong field (the serial when
asked for the model). So such a question is answered from the labelled value, and only
when nothing makes it doubtful:

- the question asks for exactly one labelled field (serial number, model, part number,
  material; not ratings, whose ranges and units need wording) and is a question for a
  value, not a yes/no question, a comparison or one that itself states a code;
- the evidence gives that field exactly one value (two plates or a memo and a plate that
  disagree go to the LLM and the conflict check);
- the value comes from successful steps, after lines that read like instructions were
  dropped (`graphs.injection`).

Everything after the draft (checks, confidence, routing, the person's review) is the
same; the draft says it was written by code (`draft_source`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from graphs.answer_checks import asked_fields, field_values
from graphs.evidence import codes, norm_code
from graphs.state import StepResult

FIELDS = ("serial number", "model", "part number", "material")
"""Labelled fields whose value is the whole answer."""

# A yes/no question starts with an auxiliary; a comparison asks about two things.
_YES_NO = re.compile(r"^\s*(?:is|are|was|were|does|do|did|can|could|has|have|had|will|would|should|shall|may|must)\b",
                     re.I)
_COMPARES = re.compile(r"\b(?:match(?:es)?|same|confirm|agree|differ|compare|correct|right|both)\b|一致|同じ|確認|合って|違",
                       re.I)
_JA_ASKS_VALUE = re.compile(r"何|なに|どれ|どの|教えて|は[？?]\s*$")
_JA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass(frozen=True)
class FieldAnswer:
    """The value that answers the question, and the steps that give it."""

    field: str
    answer: str
    citations: list[str]


def asks_yes_no(question: str) -> bool:
    """A yes/no question: its last sentence opens with an auxiliary ("Is…", "The lead says 6.
    Is that right?"), or in Japanese it ends in か without asking 何, どれ…"""
    q = unicodedata.normalize("NFKC", question).strip()
    if _JA.search(q):
        return bool(re.search(r"か[？?]?\s*$", q)) and not _JA_ASKS_VALUE.search(q)
    return bool(_YES_NO.search(re.split(r"(?<=[.!?])\s+", q)[-1]))


def asks_for_a_value(question: str) -> bool:
    """A question for a value ("What is…", "Which…", "この銘板の製造番号は何ですか？"), not a
    yes/no question, a comparison, or one that states a code itself."""
    q = unicodedata.normalize("NFKC", question).strip()
    if _YES_NO.search(q) or _COMPARES.search(q) or codes(q):
        return False
    return bool(_JA_ASKS_VALUE.search(q)) if _JA.search(q) else True


def answered_in_code(question: str) -> bool:
    """Whether `question` is of the kind code answers when the evidence gives one value."""
    fields = asked_fields(question)
    return len(fields) == 1 and fields[0] in FIELDS and asks_for_a_value(question)


def field_answer(question: str, steps: Sequence[StepResult]) -> FieldAnswer | None:
    """The labelled value that answers `question`, or None when the LLM should draft."""
    if not answered_in_code(question):
        return None
    fields = asked_fields(question)
    by_step = field_values(fields[0], steps)
    distinct = {_key(fields[0], v) for vs in by_step.values() for v in vs}
    if len(distinct) != 1:
        return None
    ok = {s["step"] for s in steps if s["ok"]}
    cited = [step for step in by_step if step in ok]
    if not cited:
        return None
    return FieldAnswer(field=fields[0], answer=by_step[cited[0]][0].strip(), citations=cited)


def _key(field: str, value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold().strip() if field == "material" else norm_code(value)
