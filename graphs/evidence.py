"""Read values out of tool results in code, so they can be compared and checked.

A 1.5B model asked "do these contradict?" flags nearly everything; values extracted and
normalised in code compare reliably: a serial heard in a memo ("A X four four seven
one") against one read on a plate ("AX-4471"), a count asked against a count detected,
every code and number in a draft against the evidence it cites.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphs.state import StepResult
from tools.registry import Produces

_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORD = re.compile(r"\b(" + "|".join([*_UNITS, *_TENS, *_SCALES, "and"]) + r")\b", re.I)
_RUN = re.compile(
    r"\b(?:" + "|".join([*_UNITS, *_TENS, *_SCALES]) + r")(?:[\s-]+(?:"
    + "|".join([*_UNITS, *_TENS, *_SCALES, "and"]) + r"))*\b",
    re.I,
)


def _words_to_number(words: list[str]) -> str:
    """"four four seven one" → "4471" (digits spoken one by one); "two hundred" → "200"."""
    words = [w.lower() for w in words if w.lower() != "and"]
    if all(w in _UNITS and _UNITS[w] < 10 for w in words):
        return "".join(str(_UNITS[w]) for w in words)
    total, current = 0, 0
    for w in words:
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w == "thousand":
            total += max(current, 1) * 1000
            current = 0
    return str(total + current)


def spoken_to_text(text: str) -> str:
    """Normalise a transcript: number words to digits, spelled-out letters and digits joined.

    "The serial is A X four four seven one dash B" → "The serial is AX4471-B".
    """
    text = _RUN.sub(lambda m: _words_to_number(re.split(r"[\s-]+", m.group(0))), text)
    text = re.sub(r"\s+(?:dash|hyphen)\s+", "-", text, flags=re.I)
    # Join letters and digits spelled out one by one ("A X 4 4 7 1" → "AX4471"), and an
    # upper-case prefix spoken apart from its number ("KX 200" → "KX200").
    text = re.sub(r"\b(?:[A-Za-z0-9]\s+)+[A-Za-z0-9]+\b", lambda m: _join_spelled(m.group(0)), text)
    text = re.sub(r"\b([A-Z]{1,4})\s+(\d{2,}[A-Z]?)\b", r"\1\2", text)
    return text


def spelled_numbers(text: str) -> list[tuple[int, str, str]]:
    """Numbers written in two or more words: where each starts, its words and its digits
    (40, "one thousand seven hundred and seventy-five", "1775"). Reading the words alone, the
    1.5B drafting model answered "1917"; given the digits, it copies them."""
    out = []
    for m in _RUN.finditer(text):
        words = [w for w in re.split(r"[\s-]+", m.group(0)) if w.lower() != "and"]
        if len(words) >= 2:
            out.append((m.start(), m.group(0).rstrip(" -"), _words_to_number(words)))
    return out


def _join_spelled(run: str) -> str:
    parts = run.split()
    *head, last = parts
    # Every part but the last is one character, and the last is one too or a number:
    # "A X 4 4 7 1" and "A X 4471" join; "I am 5" and "5 feet" do not.
    if all(len(p) == 1 for p in head) and (len(last) == 1 or last.isdigit()) and any(c.isdigit() for c in run):
        return "".join(parts).upper()
    return run


def norm_code(value: str) -> str:
    """Case, spacing and dashes do not matter when comparing codes."""
    return re.sub(r"[^0-9A-Z]", "", value.upper())


_CODE = re.compile(r"(?<![A-Za-z0-9.])(?=[A-Za-z0-9./-]*\d)[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+|(?<=\d)\.\d+)*(?![A-Za-z0-9])")


def codes(text: str) -> list[str]:
    """Tokens that look like codes or numbers: contain a digit (AX-4471-B, KX-200, 50Hz, 3)."""
    return [m.group(0) for m in _CODE.finditer(text)]


_FIELDS = {
    "serial number": re.compile(r"(?:serial(?:\s*(?:no\.?|number|num|#))?|s/n|製造番号|シリアル番号?)\s*(?:is|:|：|=)?\s*", re.I),
    "model": re.compile(r"(?:model(?:\s*(?:no\.?|number|#))?|型式|形式|型番)\s*(?:is|:|：|=)?\s*", re.I),
    "part number": re.compile(r"(?:part\s*(?:no\.?|number|#)|p/n|品番|部品番号)\s*(?:is|:|：|=)?\s*", re.I),
}


_MATERIAL = re.compile(r"(?:material|材質|材料)\s*(?:is|:|：|=)?\s*([^\n,;。、]{2,40})", re.I)


def labelled_values_all(text: str) -> dict[str, list[str]]:
    """Every value that follows each label, in order (a plate and an injected line may both
    say "serial"); materials too ("MATERIAL: SUS304", "材質：ステンレス")."""
    out: dict[str, list[str]] = {}
    for name, label in _FIELDS.items():
        for m in label.finditer(text):
            rest = re.split(r"\n|[.!?。](?:\s|$)", text[m.end(): m.end() + 60], maxsplit=1)[0]
            found = [c for c in codes(rest) if len(norm_code(c)) >= 3]
            if found and found[0] not in out.get(name, []):
                out.setdefault(name, []).append(found[0])
    for m in _MATERIAL.finditer(text):
        value = m.group(1).strip().split("  ")[0].strip()
        if value and value not in out.get("material", []):
            out.setdefault("material", []).append(value)
    return out


def labelled_values(text: str) -> dict[str, str]:
    """Values that follow a label: {"serial number": "AX-4471-B", "model": "KX-200"}.

    The value is the first code (3+ characters, with a digit) after the label, within the
    same line and sentence: "SERIAL NO. AX-4471-B", "the serial number of the broken
    press is BQ9912".
    """
    out: dict[str, str] = {}
    for name, label in _FIELDS.items():
        for m in label.finditer(text):
            rest = re.split(r"\n|[.!?。](?:\s|$)", text[m.end(): m.end() + 60], maxsplit=1)[0]
            found = [c for c in codes(rest) if len(norm_code(c)) >= 3]
            if found:
                out[name] = found[0]
                break
    return out


_RATINGS = {
    "voltage": re.compile(r"(\d+(?:\.\d+)?)\s*(?:V|volts?)\b", re.I),
    "frequency": re.compile(r"(\d+(?:\.\d+)?)\s*(?:Hz|hertz)\b", re.I),
}


def ratings(text: str) -> dict[str, set[str]]:
    """Electrical ratings stated in text: {"voltage": {"200"}, "frequency": {"50"}}."""
    return {k: set(rx.findall(text)) for k, rx in _RATINGS.items() if rx.findall(text)}


@dataclass(frozen=True)
class Source:
    """The text one step contributes, normalised for comparison."""

    step: str
    produces: str
    """What the step's tool produces (`tools.registry.Produces`): heard text is normalised."""
    file: str
    text: str


def heard(step: StepResult) -> bool:
    """The step's text was heard (speech), so letters and digits may be misheard."""
    return step.get("produces") == Produces.TRANSCRIPT


def detected(step: StepResult) -> bool:
    """The step counted objects (a detector), successfully."""
    return bool(step["ok"] and step["result"] and isinstance(step["result"].get("counts"), dict))


def found_something(step: StepResult) -> bool:
    """The step succeeded and its result holds something: text, a detection, or a report."""
    if not step["ok"] or not step["result"]:
        return False
    counts = step["result"].get("counts")
    if isinstance(counts, dict):
        return sum(int(n) for n in counts.values()) > 0
    text = step["result"].get("text")
    return bool((text if isinstance(text, str) else step.get("summary") or "").strip())


def sources(steps: Sequence[StepResult]) -> list[Source]:
    """Text evidence of successful steps; transcripts get spoken numbers normalised."""
    out = []
    for s in steps:
        if not s["ok"] or not s["result"]:
            continue
        # A tool without a `text` field (a plugin's gauge reading, say) speaks through its summary.
        text = s["result"].get("text")
        if not isinstance(text, str) or not text.strip():
            text = "" if isinstance(s["result"].get("counts"), dict) else s.get("summary") or ""
        # Full-width digits, letters and dashes (Japanese plates) compare as their ASCII forms.
        text = unicodedata.normalize("NFKC", text)
        if text.strip():
            if heard(s):
                text = spoken_to_text(text)
            out.append(Source(s["step"], s.get("produces", Produces.REPORT), s["file"], text))
    return out


PERSON_WORDS = r"(?:people|persons?|workers?|operators?|men|women|staff|employees?|humans?)"
_COUNT_IN_QUESTION = re.compile(r"\b(\d+|" + "|".join(_UNITS) + r"|" + "|".join(_TENS) + r")\s+(?:\w+\s+)?" + PERSON_WORDS + r"\b", re.I)


def count_in_question(question: str) -> int | None:
    """A number of people the question states ("are the 3 operators…", "five workers")."""
    m = _COUNT_IN_QUESTION.search(question)
    if not m:
        return None
    word = m.group(1).lower()
    return int(word) if word.isdigit() else int(_words_to_number([word]))


def counted_aloud(transcript: str) -> int | None:
    """A count a speaker says: "one, two, three" (1, 2, 3 … in order → 3) or "three people".

    `transcript` is already normalised (`spoken_to_text`), so number words are digits.
    """
    stated = count_in_question(transcript)
    if stated is not None:
        return stated
    numbers = [int(n) for n in re.findall(r"(?<!\d)(?<!\d\.)\d{1,2}(?!\d|\.\d)", transcript)]
    # A counting run: 1, 2, 3, … with nothing else numeric said.
    if len(numbers) >= 2 and numbers == list(range(1, len(numbers) + 1)):
        return numbers[-1]
    return None


def people_counts(steps: Sequence[StepResult]) -> dict[str, int] | None:
    """Per-class counts summed over successful detector steps, or None if none ran."""
    total: dict[str, int] = {}
    seen = False
    for s in steps:
        if detected(s):
            seen = True
            for cls, n in s["result"]["counts"].items():  # type: ignore[index]
                total[cls] = total.get(cls, 0) + int(n)
    return total if seen else None


CONFIDENT_DETECTION = 0.5
"""A detection at least this sure is more likely a person than not: the low end of a count."""


def people_count_range(steps: Sequence[StepResult]) -> tuple[int, int] | None:
    """(confident, all): how many detections are at least `CONFIDENT_DETECTION` sure, and
    how many there are above the detector's floor; None if no detector ran. A room photo
    can give 7 people of whom 3 are sure: the count is a range, not one number."""
    ran, sure, seen = False, 0, 0
    for s in steps:
        if detected(s):
            result: dict[str, Any] = s["result"]  # type: ignore[assignment]
            n = sum(int(v) for v in result["counts"].values())
            found = result.get("detections")
            ran, seen = True, seen + n
            # A detector that gives counts only: take them as they are.
            sure += n if found is None else len(
                [d for d in found if float(d.get("confidence", 0.0)) >= CONFIDENT_DETECTION])
    if not ran:
        return None
    return min(sure, seen), seen


COLOURS = {"red", "green", "blue", "yellow", "orange", "purple", "black", "white", "grey", "gray",
           "brown", "pink", "silver", "gold", "赤", "青", "緑", "黄色", "黒", "白"}
FALL_WORDS = re.compile(r"\b(fallen|fell|falling|collapsed|lying on the (?:floor|ground)|has fallen|down on the floor)\b", re.I)
ASKS_ABOUT_A_FALL = re.compile(FALL_WORDS.pattern + r"|\bfall(?:en)?\s+(?:down|over)\b|倒れ|転倒", re.I)
"""A question about a fall, in English or Japanese (倒れ, 転倒)."""
NEGATION = re.compile(r"\b(no one|nobody|no person|none|not|no\b|without|neither)", re.I)
