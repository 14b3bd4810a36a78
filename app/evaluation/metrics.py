"""Scores of one run: pure functions over cases (gold or realdev) and job documents."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from app.evaluation import realdev
from app.evaluation.cases import GoldCase
from graphs.evidence import norm_code

CONFLICT_FLAGS = {"conflict", "count_mismatch"}


def answer_matches(answer: str, accept: Sequence[str]) -> bool:
    """True when the answer contains an accepted value (codes compared without case,
    spaces or dashes; bare numbers as whole numbers; words as phrases)."""
    lowered = answer.lower()
    for value in accept:
        has_digit, has_alpha = any(c.isdigit() for c in value), any(c.isalpha() for c in value)
        if has_digit and has_alpha and " " not in value.strip():
            if norm_code(value) in norm_code(answer):
                return True
        elif value.strip().isdigit():
            if re.search(rf"(?<!\d){re.escape(value.strip())}(?!\d)", answer):
                return True
        elif value.lower() in lowered:
            return True
        elif (word := value.strip(" ,.").lower()) != value.lower() and re.search(rf"\b{re.escape(word)}\b", lowered):
            # "no " and "no," in an accept list mean the word "no", and a one-word "No." is it.
            return True
    return False


@dataclass(frozen=True)
class CaseScore:
    """How one case went."""

    id: str
    kind: str
    status: str
    correct: bool
    planned: list[list[str]]
    expected: list[list[str]]
    conflict_expected: bool
    conflict_flagged: bool
    confidence: float | None
    seconds: float
    tool_errors: list[str]
    answer: str
    flags: list[str]
    set: str = "gold"
    hard: bool = False
    called: list[list[str]] = field(default_factory=list)
    """(tool, file) of every step that ran, all rounds, coverage steps and failures included."""
    families: list[str] = field(default_factory=list)
    """Tool families of the steps that ran (`realdev.family`)."""
    expected_families: list[str] | None = None
    """realdev only: the families `expected_tools` names."""
    tool_precision: float | None = None
    tool_recall: float | None = None
    rounds: int = 1
    """Planning rounds the job took (`len(doc["rounds"])`; 1 when the document has none)."""
    rejected_by: list[str] = field(default_factory=list)
    """realdev only: reject words found in the answer."""
    error: str | None = None


def rounds_of(doc: dict[str, Any]) -> int:
    """How many planning rounds a job took: its `rounds` list, else the highest `round` a
    plan step names; a document with neither had one."""
    if doc.get("rounds"):
        return len(doc["rounds"])
    return max([1, *(int(s.get("round") or 1) for s in doc.get("plan", []) or [])])


def score_case(case: GoldCase, doc: dict[str, Any], seconds: float) -> CaseScore:
    """Compare one job document with its case: a gold case by `answer_matches` and planned
    (tool, file) pairs, a realdev case by its README's rule and the families that ran."""
    planned = sorted([s["tool"], s["file"]] for s in doc.get("plan", []) if s.get("origin") == "planner")
    answer = doc.get("draft_answer") or ""
    flags = [f["kind"] for f in doc.get("flags", [])]
    ran = doc.get("steps", []) or []
    failed = doc.get("status", "failed") == "failed"
    if case.expected_families is None:
        correct = not failed and answer_matches(answer, case.accept)
        extra: dict[str, Any] = {}
    else:
        correct = not failed and realdev.is_right(case.accept, case.reject, answer)
        families = realdev.called_families(doc)
        precision, recall = realdev.family_pr(families, case.expected_families)
        extra = {"expected_families": sorted(case.expected_families), "tool_precision": round(precision, 3),
                 "tool_recall": round(recall, 3), "rejected_by": realdev.reject_hits(answer, case.reject)}
    return CaseScore(
        id=case.id, kind=case.kind, status=doc.get("status", "failed"),
        correct=correct,
        planned=planned, expected=sorted(list(p) for p in case.expected_tools),
        conflict_expected=case.conflict, conflict_flagged=bool(CONFLICT_FLAGS & set(flags)),
        confidence=doc.get("confidence"), seconds=round(seconds, 2),
        tool_errors=[s["tool"] for s in ran if not s.get("ok")],
        answer=answer, flags=flags, set=case.set, hard=case.hard,
        called=sorted([str(s.get("tool", "")), str(s.get("file", ""))] for s in ran),
        families=realdev.called_families(doc), rounds=rounds_of(doc), error=doc.get("error"), **extra,
    )


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)) if precision and recall else (0.0 if precision is not None and recall is not None else None)
    return {"precision": _r(precision), "recall": _r(recall), "f1": _r(f1), "tp": tp, "fp": fp, "fn": fn}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


BUCKETS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0001)]


def _accuracy(scores: Sequence[CaseScore]) -> float | None:
    return _r(sum(s.correct for s in scores) / len(scores)) if scores else None


def _family_selection(scores: Sequence[CaseScore]) -> dict[str, Any]:
    """realdev's tool rule: per-case precision and recall over families, averaged over the
    cases; tp/fp/fn (and `micro`) sum the families over all cases."""
    tp = fp = fn = 0
    for s in scores:
        called, expected = set(s.families), set(s.expected_families or ())
        tp, fp, fn = tp + len(called & expected), fp + len(called - expected), fn + len(expected - called)
    p = statistics.fmean(s.tool_precision for s in scores if s.tool_precision is not None) if scores else None
    r = statistics.fmean(s.tool_recall for s in scores if s.tool_recall is not None) if scores else None
    f1 = (2 * p * r / (p + r) if p + r else 0.0) if p is not None and r is not None else None
    return {"precision": _r(p), "recall": _r(r), "f1": _r(f1), "tp": tp, "fp": fp, "fn": fn}


def summarise(scores: Sequence[CaseScore]) -> dict[str, Any]:
    """Tool selection P/R/F1, accuracy (all, not hard), conflict-flag P/R, calibration,
    latency, tool errors, planning rounds. One set at a time: a gold run scores the planned
    (tool, file) pairs, a realdev run the families of the steps that ran."""
    sets = {s.set for s in scores}
    if len(sets) > 1:
        raise ValueError(f"summarise one set at a time, not {sorted(sets)}")
    family_rule = sets == {"realdev"}
    tp = fp = fn = 0
    for s in scores:
        planned, expected = {tuple(p) for p in s.planned}, {tuple(p) for p in s.expected}
        tp, fp, fn = tp + len(planned & expected), fp + len(planned - expected), fn + len(expected - planned)
    ctp = sum(s.conflict_flagged and s.conflict_expected for s in scores)
    cfp = sum(s.conflict_flagged and not s.conflict_expected for s in scores)
    cfn = sum(not s.conflict_flagged and s.conflict_expected for s in scores)
    calibration = []
    for lo, hi in BUCKETS:
        inside = [s for s in scores if s.confidence is not None and lo <= s.confidence < hi]
        calibration.append({
            "bucket": f"{lo:.1f}-{min(hi, 1.0):.1f}", "cases": len(inside),
            "mean_confidence": _r(statistics.fmean(s.confidence for s in inside)) if inside else None,  # type: ignore[misc]
            "accuracy": _r(sum(s.correct for s in inside) / len(inside)) if inside else None,
        })
    by_kind: dict[str, list[CaseScore]] = defaultdict(list)
    for s in scores:
        by_kind[s.kind].append(s)
    easy, hard = [s for s in scores if not s.hard], [s for s in scores if s.hard]
    return {
        "set": next(iter(sets), "gold"),
        "cases": len(scores),
        "accuracy": _accuracy(scores),
        "cases_not_hard": len(easy),
        "accuracy_not_hard": _accuracy(easy),
        "cases_hard": len(hard),
        "accuracy_hard": _accuracy(hard),
        "tool_rule": ("families (ocr/asr/detect) of the steps that ran, per-case P/R averaged" if family_rule
                      else "(tool, file) pairs the planner chose, summed over cases"),
        "tool_selection": _family_selection(scores) if family_rule else _prf(tp, fp, fn),
        "conflict_flags": _prf(ctp, cfp, cfn),
        "calibration": calibration,
        "by_kind": {k: {"cases": len(v), "accuracy": _r(sum(s.correct for s in v) / len(v)),
                        "latency_p50_s": _pct([s.seconds for s in v], 0.5),
                        "latency_p95_s": _pct([s.seconds for s in v], 0.95)} for k, v in sorted(by_kind.items())},
        "latency_p50_s": _pct([s.seconds for s in scores], 0.5),
        "latency_p95_s": _pct([s.seconds for s in scores], 0.95),
        "tool_errors": dict(Counter(t for s in scores for t in s.tool_errors)),
        "failed_jobs": sum(s.status == "failed" for s in scores),
        "rounds": {"mean": _r(statistics.fmean(s.rounds for s in scores)) if scores else None,
                   "jobs_with_more_than_one": sum(s.rounds > 1 for s in scores),
                   "right_with_more_than_one": sum(s.rounds > 1 and s.correct for s in scores)},
    }


def as_dicts(scores: Sequence[CaseScore]) -> list[dict[str, Any]]:
    """Scores as JSON-ready dicts."""
    return [asdict(s) for s in scores]
