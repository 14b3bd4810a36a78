"""Did the draft answer the question asked? Checks in code, after grounding.

Grounding only asks whether every value in the draft is somewhere in the evidence; a
draft can pass it and still answer the wrong field (the serial when asked for the
model), take a weak alarm at face value, or say the sources disagree while no value the
code compares differs. These checks catch those, for English and Japanese.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from graphs.answer_text import is_refusal
from graphs.evidence import codes, detected, labelled_values_all, norm_code, ratings, sources
from graphs.injection import without_instructions
from graphs.policy import uncertain_floor
from graphs.retrieval import CJK_LETTERS, tokens
from graphs.state import Flag, StepResult

# A field the question asks for, by the words used for it.
_ASKED = {
    # "serial" alone is a serial number unless it names a port or protocol ("serial command").
    "serial number": re.compile(r"\bserial\b(?!\s+(?:command|port|interface|line|bus|communication|protocol|"
                                r"cable|connection|console|link))|\bs/n\b|製造番号|シリアル(?:番号|ナンバー)", re.I),
    "model": re.compile(r"\bmodel\b(?!\s+of\b)|型式|形式|型番", re.I),
    "part number": re.compile(r"part\s*(?:no\.?|number|#)|p/n|品番|部品番号", re.I),
    "voltage": re.compile(r"voltage|\bvolts?\b|電圧", re.I),
    "frequency": re.compile(r"frequency|hertz|\bhz\b|周波数", re.I),
    "material": re.compile(r"material|材質|材料", re.I),
}
_RATING_FIELDS = {"voltage", "frequency"}

DISAGREE = re.compile(
    r"\b(?:do(?:es)?\s*n[o']t\s+match|not\s+(?:the\s+same|match(?:ing)?|consistent)|mismatch(?:es|ed)?|"
    r"disagree(?:s|ment)?|differ(?:s|ent)?\s+from|inconsistent|contradict(?:s|ion)?)\b|"
    r"一致しない|一致していない|一致しません|異な[りる]|食い違",
    re.I,
)


def asked_fields(question: str) -> list[str]:
    """Labelled fields the question asks for ("model", "serial number", "voltage", …)."""
    q = unicodedata.normalize("NFKC", question)
    # A question that itself states a value of the field ("…to 10.00 V?") asks something else.
    stated = ratings(q)
    return [name for name, rx in _ASKED.items() if rx.search(q) and not stated.get(name)]


def field_values(field: str, steps: Sequence[StepResult]) -> dict[str, list[str]]:
    """Values the evidence gives for `field`, per step id."""
    out: dict[str, list[str]] = {}
    for src in sources(steps):
        text = without_instructions(src.text)
        if field in _RATING_FIELDS:
            values = sorted(ratings(text).get(field, set()))
        else:
            values = labelled_values_all(text).get(field, [])
        if values:
            out[src.step] = values
    return out


def _states(field: str, value: str, answer: str) -> bool:
    if field in _RATING_FIELDS:
        return value in ratings(answer).get(field, set())
    if field == "material":
        return value.casefold() in unicodedata.normalize("NFKC", answer).casefold()
    n = norm_code(value)
    return bool(n) and n in norm_code(unicodedata.normalize("NFKC", answer))


# A question that asks for something (what, which, who, …; 何, どこ, 誰, …), as opposed to a
# yes/no question, whose answer may rightly repeat it ("Is the serial AX-1?" → "It is AX-1").
_WH = re.compile(r"\b(?:what|which|who|whom|whose|where|when|why|how)\b|"
                 r"何|なに|なん|どこ|どれ|どの|どちら|どんな|どう|いつ|誰|だれ|いくら|いくつ|なぜ", re.I)
# Words of a question's frame that a restating answer carries without adding anything.
_FRAME = frozenset(tokens("memo voice recording audio speaker person worker image photo picture "
                          "file document page text evidence mention mentions"))
# Kanji and katakana carry a Japanese sentence's content; hiragana are its grammar.
_CJK_CONTENT = re.compile(r"[\u3005\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_ANY = re.compile(rf"[{CJK_LETTERS}]")  # the letters retrieval cuts into pairs; punctuation splits words anyway


def restates_question(question: str, answer: str) -> list[str]:
    """Problems: the question asks for something and the answer only says it back ("Which
    machine is broken?" → "The worker says the machine is broken."): no word or character
    of it comes from anywhere but the question. A small model does this when it cannot find
    the answer; grounding passes it, since every word in it is "supported"."""
    q, a = (unicodedata.normalize("NFKC", t) for t in (question, answer))
    if not _WH.search(q) or is_refusal(a):
        return []
    new_words = set(tokens(_CJK_ANY.sub(" ", a))) - set(tokens(q)) - _FRAME
    new_chars = set(_CJK_CONTENT.findall(a)) - set(_CJK_CONTENT.findall(q))
    if new_words or new_chars:
        return []
    return ["the answer only repeats the question; it must name what the question asks for, "
            "from the evidence, or say the evidence does not show it"]


def restated_flags(question: str, answer: str) -> list[Flag]:
    """`restates_question` problems as flags (on no step: no evidence is at fault)."""
    return [Flag(kind="restates_question", steps=[], message=p) for p in restates_question(question, answer)]


def wrong_field(question: str, answer: str, steps: Sequence[StepResult]) -> list[str]:
    """Problems: the question asks for a field the evidence labels, and the answer states
    none of that field's values (e.g. it gives the serial when the model was asked)."""
    problems = []
    refused = is_refusal(answer)
    for name in asked_fields(question):
        by_step = field_values(name, steps)
        values = sorted({v for vs in by_step.values() for v in vs})
        if values and not any(_states(name, v, answer) for v in values):
            shown = ", ".join(repr(v) for v in values[:3])
            problems.append(f"the question asks for the {name}; the evidence labels it {shown}, "
                            "and the answer does not state it")
        elif not values and not refused and not _gives_a_value(name, answer):
            # Nothing labelled in the evidence, and the answer neither gives a value nor says
            # the evidence lacks one ("No Normal or Fall found" for a serial number).
            problems.append(f"the question asks for the {name}; the answer gives none and does not say "
                            "the evidence lacks it")
    return problems


def _gives_a_value(field: str, answer: str) -> bool:
    text = unicodedata.normalize("NFKC", answer)
    if field in _RATING_FIELDS:
        return bool(ratings(text).get(field))
    if field == "material":
        return True  # a material is a word; any answer may name one
    return any(len(norm_code(c)) >= 3 for c in codes(text))


def wrong_field_flags(question: str, answer: str, steps: Sequence[StepResult]) -> list[Flag]:
    """`wrong_field` problems as flags on the steps that hold the field."""
    flags = []
    for problem in wrong_field(question, answer, steps):
        name = next(n for n in _ASKED if f"for the {n};" in problem)  # the problem names its field
        flags.append(Flag(kind="wrong_field", steps=sorted(field_values(name, steps)), message=problem))
    return flags


def alarm_detections(step: StepResult, alarm_classes: frozenset[str], floor: float,
                     class_floors: Mapping[str, float] | None = None) -> list[tuple[dict[str, Any], float]]:
    """A detector step's detections of alarm classes (or classes with a policy floor), each with
    the confidence it needs to be taken as a fact."""
    if not detected(step):
        return []
    return [(d, need) for d in (step["result"] or {}).get("detections", [])
            if (need := uncertain_floor(str(d.get("class_name")), alarm_classes, floor, dict(class_floors or {})))
            is not None]


def uncertain_alarms(steps: Sequence[StepResult], alarm_classes: frozenset[str], floor: float,
                     class_floors: Mapping[str, float] | None = None) -> list[Flag]:
    """Alarm detections (e.g. Fall) less certain than `floor`, or than the policy's floor for their
    class (`class_floors`, which wins): not taken as a fact, a person must look."""
    flags = []
    for s in steps:
        weak = [(d, need) for d, need in alarm_detections(s, alarm_classes, floor, class_floors)
                if float(d.get("confidence", 0)) < need]
        if weak:
            confs = ", ".join(f"{d['class_name']} {float(d['confidence']):.2f} < {need:.2f}" for d, need in weak[:5])
            flags.append(Flag(kind="uncertain_alarm", steps=[s["step"]], message=(
                f"{len(weak)} alarm detection(s) below the confidence floor ({confs})")))
    return flags


def stated_disagreement(answer: str, steps: Sequence[StepResult], flags: Sequence[Flag]) -> list[Flag]:
    """The draft says the sources disagree, and no check in code found why: flag it as a conflict."""
    if any(f["kind"] in ("conflict", "count_mismatch") for f in flags):
        return []
    files = {s["file"] for s in steps if s["ok"]}
    if len(files) < 2 or not DISAGREE.search(unicodedata.normalize("NFKC", answer)):
        return []
    return [Flag(kind="conflict", steps=[s["step"] for s in steps if s["ok"]],
                 message="the draft says the sources disagree; compare them")]
