"""Facts for the draft, computed in code, and the check that a draft states only those.

The drafting LLM is small: told "3 people, 0 fallen" as a fact it repeats it; left to
read raw detections it may write "someone has fallen". So counts, fallen-or-not and the
text found are handed over as facts, and afterwards every code, number, colour and
fall-word the draft states is looked up in the evidence. What is not there becomes an
`unsupported_claim` flag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphs.answer_text import is_refusal
from graphs.evidence import (
    ASKS_ABOUT_A_FALL,
    COLOURS,
    FALL_WORDS,
    NEGATION,
    codes,
    heard,
    labelled_values,
    norm_code,
    people_counts,
    ratings,
    sources,
    spoken_to_text,
)
from graphs.retrieval import tokens
from graphs.state import Attachment, StepResult

_MAX_TEXT = 600
LONG_TEXT_LINES = 20
"""Longer text is not repeated as a fact: the draft gets its passages relevant to the
question instead (graphs.drafting), and its first 600 characters would only distract."""


def compute_facts(steps: Sequence[StepResult], files: Sequence[Attachment]) -> list[str]:
    """One or more plain sentences per step: what each tool found, or that it failed."""
    names = {f["id"]: f["name"] for f in files}
    facts: list[str] = []
    for s in steps:
        where = f"{s['step']} ({s['tool']} on {s['file']} \"{names.get(s['file'], s['file'])}\")"
        if not s["ok"]:
            facts.append(f"{where}: the tool failed: {s['error']}")
            continue
        result = s["result"] or {}
        counts = result.get("counts")
        if isinstance(counts, dict):
            facts.append(f"{where}: {_count_sentence(counts)}")
            continue
        text = (result.get("text") or "").strip()
        if not text and "text" not in result and s["summary"].strip():
            facts.append(f"{where}: reported: \"{_clip(s['summary'])}\"")
            continue
        if not text:
            facts.append(f"{where}: found nothing ({'; '.join(result.get('warnings') or []) or 'empty result'})")
            continue
        verb = "heard" if heard(s) else "read"
        if not _shown_in_summary(text, s["summary"]) and len(text.splitlines()) <= LONG_TEXT_LINES:
            facts.append(f"{where}: {verb} the text: \"{_clip(text)}\"")
        labelled = labelled_values(spoken_to_text(text) if heard(s) else text)
        if labelled:
            facts.append(f"{where}: " + "; ".join(f"{label} {value}" for label, value in labelled.items()))
    return facts


def _count_sentence(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    parts = ", ".join(f"{n} {cls}" for cls, n in counts.items())
    sentence = f"detected {total} in total ({parts})."
    if {"Normal", "Fall"} <= set(counts):
        fallen = counts["Fall"]
        sentence += (
            f" {total} people: {counts['Normal']} standing, {fallen} fallen."
            + (" No one has fallen." if fallen == 0 else f" {fallen} person(s) appear to have fallen.")
        )
    return sentence


def _shown_in_summary(text: str, summary: str) -> bool:
    """Every line of the text is in the step's summary already, so the draft reads it
    there; saying it again as a fact only costs prompt tokens."""
    flat = " ".join(summary.split())
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return bool(lines) and all(line in flat for line in lines)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def unsupported_claims(answer: str, steps: Sequence[StepResult], facts: Sequence[str], *,
                       question: str = "") -> list[str]:
    """Values the answer states that no evidence or computed fact contains, and the words of a
    short answer about speech that neither the transcript nor the `question` holds."""
    evidence_text = " ".join(src.text for src in sources(steps)) + " " + " ".join(facts)
    # Numbers the evidence spells out ("seventy-five", a year in a book) count as stated.
    evidence_text += " " + spoken_to_text(evidence_text)
    found = codes(evidence_text)
    # A code's parts count ("2024" of "2024-05-01"), as do codes OCR split ("AX 4471-B").
    evidence_codes = {norm_code(c) for c in found} | {norm_code(p) for c in found for p in re.split(r"[-/.]", c)}
    evidence_blob = norm_code(evidence_text)
    # A transcript's "MX 410" is joined to the code MX410; the answer's "410" is then part of it.
    joined = {norm_code(c) for c in codes(spoken_to_text(answer))} & evidence_codes
    problems: list[str] = []
    for value in codes(answer):
        n = norm_code(value)
        if re.fullmatch(r"S\d+", n):  # a cited step id
            continue
        if n in evidence_codes or _in_blob(n, evidence_blob) or any(n in j for j in joined):
            continue
        problems.append(f"the value {value!r} appears in no tool result")
    for rating, values in ratings(answer).items():
        known = ratings(evidence_text).get(rating, set())
        problems += [f"the {rating} {v} appears in no tool result" for v in values - known]
    lowered = evidence_text.lower()
    for colour in COLOURS:
        if re.search(rf"(?<!\w){re.escape(colour)}(?!\w)", answer, re.I) and colour not in lowered:
            problems.append(f"the colour {colour!r} appears in no tool result")
    counts = people_counts(steps)
    fallen = (counts or {}).get("Fall", 0)
    for sentence in re.split(r"(?<=[.!?])\s+", answer):
        if FALL_WORDS.search(sentence) and fallen == 0 and not NEGATION.search(sentence):
            problems.append("the answer says someone fell, but no tool found a fallen person")
    if fallen and denies_a_fall(question, answer):
        problems.append(f"the answer says no one fell, but the detector found {fallen} possibly fallen "
                        "person(s): say so, and how sure it is")
    problems += unsupported_words(question, answer, steps)
    return sorted(set(problems))


_DENIAL = re.compile(r"^\W*(?:no\b|nobody|no one|none|いいえ|誰も|いません)", re.I)


def denies_a_fall(question: str, answer: str) -> bool:
    """The answer says no one fell: "No" to a question about a fall, or a fall-word negated."""
    if ASKS_ABOUT_A_FALL.search(question) and _DENIAL.search(answer):
        return True
    return any(FALL_WORDS.search(s) and NEGATION.search(s) for s in re.split(r"(?<=[.!?])\s+", answer))


def _in_blob(value: str, blob: str) -> bool:
    """`value` (4+ characters) is in the evidence with its separators removed, and not as the start
    or end of a longer number: "CURR10" (a cut "CURR10.00V") is not in "CURR1000"."""
    if len(value) < 4:
        return False
    for m in re.finditer(re.escape(value), blob):
        before, after = blob[m.start() - 1:m.start()], blob[m.end():m.end() + 1]
        if not (value[-1].isdigit() and after.isdigit()) and not (value[0].isdigit() and before.isdigit()):
            return True
    return False


SHORT_ANSWER_WORDS = 6
_ANSWER_FILLER = frozenset((
    "yes", "no", "not", "none", "nothing", "only", "also", "about", "some", "any", "all", "here", "they",
    "she", "him", "his", "her", "them", "our", "speaker", "memo", "recording", "audio", "transcript",
    "voice", "file", "image", "photo", "picture", "page", "document", "receipt", "evidence", "answer",
    "cannot", "show", "shows", "shown", "mention", "mentions", "mentioned", "state", "states", "stated",
))
"""Words an answer uses about the evidence rather than from it (beside the search stopwords and
words under three letters, which `tokens` and the length test already skip)."""


def unsupported_words(question: str, answer: str, steps: Sequence[StepResult]) -> list[str]:
    """Words of a short answer about speech that neither the transcript nor the question holds.

    When the evidence is only what was said, a short answer names something the speaker
    said: "The counsel was the doctor." for a memo saying "his belly counselled him" names a
    doctor no one mentioned. Only short English answers are checked (a sentence may
    rephrase), and only when every successful step is a transcript: read text answers with
    codes and labels ("serial number" for "SERIAL NO."), which the other checks cover, and
    a detector's labels do not hold the words an answer about a photo uses.
    """
    ok = [s for s in steps if s["ok"]]
    if is_refusal(answer) or not ok or any(s.get("produces") != "transcript" for s in ok):
        return []
    words = re.findall(r"[A-Za-z][A-Za-z']+", answer)
    if not words or len(answer.split()) > SHORT_ANSWER_WORDS:
        return []
    known = set(tokens(" ".join(src.text for src in sources(steps)) + " " + question))
    missing = []
    for word in words:
        stem = (tokens(word) or [""])[0]
        if len(stem) < 3 or word.lower() in _ANSWER_FILLER or stem in known:
            continue
        # "counsel" for a question saying "counselled": a shared start of five letters is the same word.
        if len(stem) >= 5 and any(k[:5] == stem[:5] for k in known):
            continue
        missing.append(word)
    return [f"the word {w!r} appears in no tool result and not in the question" for w in dict.fromkeys(missing)]
