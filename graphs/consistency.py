"""Cross-modal checks and the draft's confidence score, all in code."""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def conflicts(steps: Sequence[StepResult]) -> list[Flag]:
    """Values that should agree across evidence but do not.

    A labelled value (serial number, model, part number) given by two sources must be
    the same code once case, spacing and dashes are ignored; one containing the other
    ("AX-4471" heard, "AX-4471-B" read) counts as agreement. When one side was heard
    (speech), a near miss is `uncertain_match`; anything further apart is a `conflict`.
    Ratings (volts, hertz) stated by two sources must share a value.
    """
    flags: list[Flag] = []
    srcs = sources(steps)
    found: dict[str, list[tuple[str, str, str]]] = {}
    for src in srcs:
        for label, value in labelled_values(src.text).items():
            found.setdefault(label, []).append((src.step, src.produces, value))
    for label, values in found.items():
        for i, (step_a, made_a, a) in enumerate(values):
            for step_b, made_b, b in values[i + 1:]:
                na, nb = norm_code(a), norm_code(b)
                if not na or not nb or na in nb or nb in na:
                    continue
                if Produces.TRANSCRIPT in (made_a, made_b) and heard_alike(na, nb):
                    flags.append(Flag(kind="uncertain_match", steps=[step_a, step_b], message=(
                        f"{label} {a!r} in {step_a} and {b!r} in {step_b} are close but not equal; "
                        "speech recognition often mishears letters: check the recording")))
                else:
                    flags.append(Flag(kind="conflict", steps=[step_a, step_b],
                                      message=f"{label} differs: {a!r} in {step_a} vs {b!r} in {step_b}"))
    by_rating: dict[str, list[tuple[str, set[str]]]] = {}
    for src in srcs:
        for rating, stated in ratings(src.text).items():
            by_rating.setdefault(rating, []).append((src.step, stated))
    for rating, entries in by_rating.items():
        for i, (step_a, set_a) in enumerate(entries):
            for step_b, set_b in entries[i + 1:]:
                if not set_a & set_b:
                    flags.append(Flag(kind="conflict", steps=[step_a, step_b], message=(
                        f"{rating} differs: {sorted(set_a)} in {step_a} vs {sorted(set_b)} in {step_b}")))
    return flags


def count_mismatch(question: str, steps: Sequence[StepResult]) -> list[Flag]:
    """The question, or a memo, states a number of people; the detector counted another.

    A stated count between the detector's sure count and its full count is not a
    conflict: the extra detections are as likely furniture as people, so it is flagged
    `uncertain_match` for a person to look at, and the draft told it is probably the same."""
    count = people_count_range(steps)
    if count is None:
        return []
    detect_steps = [s["step"] for s in steps if detected(s)]
    stated = count_in_question(question)
    if stated is not None:
        flag = _compare_count(stated, count, detect_steps, f"the question says {stated} people")
        return [flag] if flag else []
    flags = []
    for src in sources(steps):
        heard_count = counted_aloud(src.text) if src.produces == Produces.TRANSCRIPT else None
        if heard_count is not None and (flag := _compare_count(
                heard_count, count, [src.step, *detect_steps], f"the memo in {src.step} counts {heard_count}")):
            flags.append(flag)
    return flags


def _compare_count(stated: int, count: tuple[int, int], steps: list[str], said: str) -> Flag | None:
    sure, seen = count
    if stated == seen:
        return None
    if sure <= stated < seen:
        return Flag(kind="uncertain_match", steps=steps, message=(
            f"{said}; the detector found {seen}, {sure} of them with confidence ≥ {CONFIDENT_DETECTION:g}"))
    found = f"{seen}" if sure == seen else f"{seen} ({sure} with confidence ≥ {CONFIDENT_DETECTION:g})"
    return Flag(kind="count_mismatch", steps=steps, message=f"{said}; the detector found {found}")


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
