"""Cross-modal checks and the draft's confidence score, all in code."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from graphs.evidence import (
    CONFIDENT_DETECTION,
    count_in_question,
    counted_aloud,
    detected,
    labelled_values,
    norm_code,
    people_count_range,
    ratings,
    sources,
)
from graphs.state import Flag, StepResult
from tools.registry import Produces


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def heard_alike(a: str, b: str) -> bool:
    """Close enough that a speech recogniser may have misheard one as the other.

    Spoken letters are easily confused ("B"/"G", "C"/"E") and repeated digits dropped,
    so a heard code within a third of its length in edits of the read one is treated as
    probably the same value (flagged `uncertain_match`, not `conflict`).
    """
    return edit_distance(a, b) <= max(1, min(len(a), len(b)) // 3)


@dataclass(frozen=True)
class Comparison:
    """Two sources' values for one thing (a labelled field, a rating, a people count) and whether
    they agree: "same", "close" (one side heard, a near miss) or "differ"."""

    what: str
    step_a: str
    """The step that gives `a`, or "question" for a count the question states."""
    a: str
    steps_b: tuple[str, ...]
    """The step that gives `b` (a people count: every detector step)."""
    b: str
    verdict: str
    files: frozenset[str] = frozenset()
    """The files the two values come from (one file: two readings of the same page)."""
    note: str = ""

    @property
    def step_b(self) -> str:
        return ", ".join(self.steps_b)

    @property
    def steps(self) -> list[str]:
        """The steps the comparison rests on."""
        return [s for s in (self.step_a, *self.steps_b) if s != "question"]


def value_comparisons(steps: Sequence[StepResult]) -> list[Comparison]:
    """Every pair of sources that give the same labelled field or rating, compared.

    A labelled value (serial number, model, part number) given by two sources must be
    the same code once case, spacing and dashes are ignored; one containing the other
    ("AX-4471" heard, "AX-4471-B" read) counts as agreement. When one side was heard
    (speech), a near miss is "close"; anything further apart "differs". Ratings (volts,
    hertz) stated by two sources must share a value.
    """
    out: list[Comparison] = []
    srcs = sources(steps)
    found: dict[str, list[tuple[str, str, str, str]]] = {}
    for src in srcs:
        for label, value in labelled_values(src.text).items():
            found.setdefault(label, []).append((src.step, src.produces, src.file, value))
    for label, values in found.items():
        for i, (step_a, made_a, file_a, a) in enumerate(values):
            for step_b, made_b, file_b, b in values[i + 1:]:
                na, nb = norm_code(a), norm_code(b)
                if not na or not nb:
                    continue
                verdict = ("same" if na in nb or nb in na else
                           "close" if Produces.TRANSCRIPT in (made_a, made_b) and heard_alike(na, nb) else "differ")
                out.append(Comparison(label, step_a, a, (step_b,), b, verdict, frozenset({file_a, file_b})))
    by_rating: dict[str, list[tuple[str, str, set[str]]]] = {}
    for src in srcs:
        for rating, stated in ratings(src.text).items():
            by_rating.setdefault(rating, []).append((src.step, src.file, stated))
    for rating, entries in by_rating.items():
        for i, (step_a, file_a, set_a) in enumerate(entries):
            for step_b, file_b, set_b in entries[i + 1:]:
                out.append(Comparison(rating, step_a, _stated(rating, set_a), (step_b,), _stated(rating, set_b),
                                      "same" if set_a & set_b else "differ", frozenset({file_a, file_b})))
    return out


_UNITS = {"voltage": "V", "frequency": "Hz"}


def _stated(rating: str, values: set[str]) -> str:
    """"200 V" or "200 V / 400 V": what one source states for a rating."""
    return " / ".join(f"{v} {_UNITS.get(rating, '')}".strip() for v in sorted(values))


def conflicts(steps: Sequence[StepResult]) -> list[Flag]:
    """Values that should agree across evidence but do not (`value_comparisons`): a near miss
    heard in speech is `uncertain_match`, anything else that differs a `conflict`."""
    flags: list[Flag] = []
    for c in value_comparisons(steps):
        if c.verdict == "close":
            flags.append(Flag(kind="uncertain_match", steps=c.steps, message=(
                f"{c.what} {c.a!r} in {c.step_a} and {c.b!r} in {c.step_b} are close but not equal; "
                "speech recognition often mishears letters: check the recording")))
        elif c.verdict == "differ":
            flags.append(Flag(kind="conflict", steps=c.steps,
                              message=f"{c.what} differs: {c.a!r} in {c.step_a} vs {c.b!r} in {c.step_b}"))
    return flags


def count_comparisons(question: str, steps: Sequence[StepResult]) -> list[Comparison]:
    """A number of people the question, or a memo, states against the detector's count.

    A stated count between the detector's sure count and its full count is "close": the
    extra detections are as likely furniture as people."""
    count = people_count_range(steps)
    if count is None:
        return []
    detect_steps = [s for s in steps if detected(s)]
    found = _found(count)
    detector = tuple(s["step"] for s in detect_steps)
    stated = count_in_question(question)
    if stated is not None:
        return [Comparison("people", "question", str(stated), detector, found, _count_verdict(stated, count),
                           frozenset(s["file"] for s in detect_steps), note=f"the question says {stated} people")]
    out = []
    for src in sources(steps):
        heard_count = counted_aloud(src.text) if src.produces == Produces.TRANSCRIPT else None
        if heard_count is not None:
            out.append(Comparison("people", src.step, str(heard_count), detector, found,
                                  _count_verdict(heard_count, count),
                                  frozenset({src.file, *(s["file"] for s in detect_steps)}),
                                  note=f"the memo in {src.step} counts {heard_count}"))
    return out


def count_mismatch(question: str, steps: Sequence[StepResult]) -> list[Flag]:
    """A stated number of people the detector's count does not confirm (`count_comparisons`)."""
    flags = []
    sure, seen = people_count_range(steps) or (0, 0)
    for c in count_comparisons(question, steps):
        if c.verdict == "close":
            flags.append(Flag(kind="uncertain_match", steps=c.steps, message=(
                f"{c.note}; the detector found {seen}, {sure} of them with confidence ≥ {CONFIDENT_DETECTION:g}")))
        elif c.verdict == "differ":
            flags.append(Flag(kind="count_mismatch", steps=c.steps, message=f"{c.note}; the detector found {c.b}"))
    return flags


def _count_verdict(stated: int, count: tuple[int, int]) -> str:
    sure, seen = count
    return "same" if stated == seen else "close" if sure <= stated < seen else "differ"


def _found(count: tuple[int, int]) -> str:
    sure, seen = count
    return f"{seen}" if sure == seen else f"{seen} ({sure} with confidence ≥ {CONFIDENT_DETECTION:g})"


def tool_flags(steps: Sequence[StepResult], low: float) -> list[Flag]:
    """Tool errors, and results whose own confidence is low."""
    flags: list[Flag] = []
    for s in steps:
        if not s["ok"]:
            flags.append(Flag(kind="tool_error", steps=[s["step"]], message=f"{s['tool']} failed: {s['error']}"))
        elif s["confidence"] is not None and s["confidence"] < low:
            flags.append(Flag(kind="low_confidence", steps=[s["step"]],
                              message=f"{s['tool']} is unsure of its result (confidence {s['confidence']:.2f})"))
    return flags


# Each kind of flag multiplies the score by its factor: a conflict between sources halves
# trust; a claim nothing supports or an unanswerable question leaves little.
FLAG_FACTORS = {
    "conflict": 0.5,
    "count_mismatch": 0.5,
    "unsupported_claim": 0.4,
    "unanswerable": 0.3,
    "no_evidence": 0.2,
    "tool_error": 0.7,
    "low_confidence": 0.85,
    "uncertain_match": 0.8,
    "wrong_field": 0.4,
    "uncertain_alarm": 0.6,
    "instruction_in_evidence": 0.3,
    "restates_question": 0.4,
}
DEFAULT_TOOL_CONFIDENCE = 0.8
"""Used for a tool that reports no confidence of its own (e.g. a plugin)."""


def confidence(steps: Sequence[StepResult], cited: Sequence[str], flags: Sequence[Flag]) -> tuple[float, str]:
    """Score in [0, 1] and a one-line explanation of how it was computed.

    score = geometric mean of the confidences of the cited successful steps (all
    successful steps when nothing is cited; a result with no confidence counts 0.8)
    × the product of one factor per flag (FLAG_FACTORS). The geometric mean lets one
    weak piece of evidence pull the score down more than an average would.
    """
    ok = [s for s in steps if s["ok"]]
    used = [s for s in ok if s["step"] in set(cited)] or ok
    if not used:
        base = 0.0
    else:
        values = [max(1e-3, s["confidence"] if s["confidence"] is not None else DEFAULT_TOOL_CONFIDENCE) for s in used]
        base = math.exp(sum(math.log(v) for v in values) / len(values))
    factor = 1.0
    for f in flags:
        factor *= FLAG_FACTORS.get(f["kind"], 0.8)
    score = round(max(0.0, min(1.0, base * factor)), 3)
    explained = (
        f"{score:.2f} = evidence {base:.2f} (geometric mean of {', '.join(s['step'] for s in used) or 'no steps'})"
        + "".join(f" × {FLAG_FACTORS.get(f['kind'], 0.8)} ({f['kind']})" for f in flags)
    )
    return score, explained
