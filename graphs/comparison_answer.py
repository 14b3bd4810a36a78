"""The answer to "do they match?" when code has compared what the files give.

"Is the voice memo about the machine on this nameplate?", "Does the photo show the same
number of people the memo counts?": code already compares the serial heard with the one
read, and the count said with the count detected (graphs.consistency), exactly and
including the near misses speech recognition makes. The 1.5B drafter, shown those
comparisons as facts, still answered "No" to a "probably the same" and took seconds to
write one word. So a yes/no question about agreement is answered from the comparisons:

- "No" when any compared pair differs, "Probably yes" when the closest is a near miss
  heard in speech, "Yes" when all agree; each with the values and the steps that give them;
- only pairs from two different files (or the question against the photo) count: two
  readings of one page agreeing says nothing about the memo;
- a question that asks anything else, or evidence with nothing compared, goes to the LLM.

The check still raises the conflict or uncertain-match flags, so the answer's routing
is what it was; the draft says it was written by code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from graphs.answer_text import is_japanese
from graphs.consistency import Comparison, count_comparisons, value_comparisons
from graphs.extractive import FieldAnswer, asks_yes_no
from graphs.state import StepResult

ASKS_IF_THEY_AGREE = re.compile(
    r"\b(?:match(?:es)?|same|agree(?:s)?|consistent|differ(?:s|ent)?|correct|right)\b|"
    r"\babout the \w+ (?:on|in|of|shown (?:on|in)) (?:this|that|the)\b|一致|同じ|合って|違",
    re.I,
)
"""A question whether two things are one: "does it match", "the same number", "is the memo
about the machine on this plate", "一致していますか"."""

SHOWN = 3
"""At most this many compared pairs are written out in the answer."""


def comparison_answer(question: str, steps: Sequence[StepResult]) -> FieldAnswer | None:
    """"Yes"/"Probably yes"/"No" with the values compared, or None when the LLM should draft."""
    q = unicodedata.normalize("NFKC", question)
    if not asks_yes_no(q) or not ASKS_IF_THEY_AGREE.search(q):
        return None
    compared = [c for c in value_comparisons(steps) if len(c.files) > 1] + count_comparisons(q, steps)
    if not compared:
        return None
    verdicts = {c.verdict for c in compared}
    verdict = "differ" if "differ" in verdicts else "close" if "close" in verdicts else "same"
    # The pairs that decide it come first.
    ordered = sorted(compared, key=lambda c: c.verdict != verdict)[:SHOWN]
    cited = list(dict.fromkeys(s for c in ordered for s in c.steps))
    ja = is_japanese(question)
    body = ("、".join(_pair_ja(c) for c in ordered) if ja else "; ".join(_pair_en(c) for c in ordered))
    if ja:
        opener = {"differ": "いいえ。", "close": "おそらく同じです。", "same": "はい。"}[verdict]
        return FieldAnswer(field="comparison", answer=f"{opener}{body}。", citations=cited)
    opener = {"differ": "No", "close": "Probably yes", "same": "Yes"}[verdict]
    tail = "" if verdict != "close" else (
        " (some of the detections are unsure: a person should look)" if ordered[0].what == "people"
        else " (a near miss that speech recognition often makes: check the recording)")
    return FieldAnswer(field="comparison", answer=f"{opener}: {body}{tail}.", citations=cited)


_EN = {"same": "match", "close": "are close but not equal", "differ": "differ"}
_JA = {"same": "一致します", "close": "近いが同じではありません", "differ": "異なります"}
_JA_NAMES = {"serial number": "製造番号", "model": "型式", "part number": "品番", "voltage": "電圧", "frequency": "周波数"}


def _pair_en(c: Comparison) -> str:
    if c.what == "people":
        return f"{c.note} and the detector ({c.step_b}) found {c.b}: they {_EN[c.verdict]}"
    return f"the {c.what} {c.a} ({c.step_a}) and {c.b} ({c.step_b}) {_EN[c.verdict]}"


def _pair_ja(c: Comparison) -> str:
    if c.what == "people":
        who = "質問" if c.step_a == "question" else c.step_a
        return f"{who}では{c.a}人、検出（{c.step_b}）では{c.b}人で{_JA[c.verdict]}"
    return f"{_JA_NAMES.get(c.what, c.what)}の{c.a}（{c.step_a}）と{c.b}（{c.step_b}）は{_JA[c.verdict]}"
