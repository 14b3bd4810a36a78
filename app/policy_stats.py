"""Threshold statistics over the review history: which auto-approval threshold it supports.

These are the admin's tools for earning automation (`jimoku policy propose`, the
dashboard); the graph only applies the threshold the admin sets (graphs/policy.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Proposal:
    """A suggested threshold with the evidence behind it, or why there is none."""

    threshold: float | None
    precision: float | None
    lower_bound: float | None
    support: int
    automation_rate: float | None
    reason: str
    table: list[dict[str, float | int]]


def wilson_lower(successes: int, n: int, z: float = 1.96) -> float:
    """Lower end of the Wilson score interval (95% by default) for a proportion."""
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


def propose_threshold(history: Sequence[tuple[float, bool]], *, min_precision: float, min_support: int = 30,
                      z: float = 1.96) -> Proposal:
    """The lowest confidence threshold whose drafts reviewers approved unchanged often enough.

    `history` holds (confidence, approved unchanged) for drafts people reviewed. For each
    candidate threshold t (each distinct confidence), the drafts with confidence ≥ t give
    a precision; the proposal is the lowest t whose Wilson lower bound is ≥ min_precision
    with at least `min_support` drafts above it. No such t: no proposal, and the reason.
    """
    if len(history) < min_support:
        return Proposal(None, None, None, len(history), None,
                        f"too little history: {len(history)} reviewed drafts, need at least {min_support}", [])
    ordered = sorted(history, key=lambda h: h[0], reverse=True)
    table: list[dict[str, float | int]] = []
    best: dict[str, float | int] | None = None
    good = 0
    for i, (conf, ok) in enumerate(ordered, start=1):
        good += ok
        if i < len(ordered) and ordered[i][0] == conf:
            continue  # take all drafts tied at this confidence together
        row = {"threshold": conf, "support": i, "precision": good / i, "lower_bound": wilson_lower(good, i, z),
               "automation_rate": i / len(ordered)}
        table.append(row)
        if i >= min_support and row["lower_bound"] >= min_precision:
            best = row
    if best is None:
        return Proposal(None, None, None, len(history), None,
                        f"no threshold keeps precision ≥ {min_precision} with 95% confidence "
                        f"(need more or better-reviewed history)", table)
    return Proposal(float(best["threshold"]), float(best["precision"]), float(best["lower_bound"]),
                    int(best["support"]), float(best["automation_rate"]),
                    f"{best['support']} reviewed drafts at or above {best['threshold']:.3f}: precision "
                    f"{best['precision']:.3f}, 95% lower bound {best['lower_bound']:.3f}", table)


def trust_by_kind(rows: Sequence[tuple[str | None, str | None, int, int | None, str]],
                  refusals: dict[str, int]) -> list[dict[str, object]]:
    """Per case kind: automation ratio, audit precision, two-person share and refused stale decisions.

    `rows` are outcomes (case kind, decision, audit, draft unchanged, record JSON); `refusals`
    counts decisions refused because the job changed under the reviewer, per case kind."""
    kinds: dict[str, dict[str, int]] = {}
    for kind, decision, audit, unchanged, record in rows:
        c = kinds.setdefault(kind or "none", {"jobs": 0, "auto": 0, "audits": 0, "agreed": 0, "people": 0, "two": 0})
        c["jobs"] += 1
        c["auto"] += decision == "auto_approve"
        if audit:
            c["audits"] += 1
            c["agreed"] += bool(unchanged)
        if decision in ("approve", "edit", "reject"):
            c["people"] += 1
            c["two"] += len(json.loads(record).get("approvals") or []) >= 2
    out = []
    for kind in sorted(set(kinds) | set(refusals)):
        c = kinds.get(kind, {"jobs": 0, "auto": 0, "audits": 0, "agreed": 0, "people": 0, "two": 0})
        out.append({"case_kind": kind, "jobs": c["jobs"],
                    "automation_ratio": round(c["auto"] / c["jobs"], 3) if c["jobs"] else None,
                    "audits": c["audits"], "audit_precision": round(c["agreed"] / c["audits"], 3) if c["audits"] else None,
                    "two_person_share": round(c["two"] / c["people"], 3) if c["people"] else None,
                    "refused_stale": refusals.get(kind, 0)})
    return out


def threshold_support(records: Sequence[tuple[str, int | None]], class_floors: dict[str, float],
                      ocr_floor: float | None) -> list[dict[str, object]]:
    """The history behind each per-class and OCR-line threshold of the policy: of the reviewed jobs
    whose evidence had such a detection (or OCR lines), how many there were, how many fell below the
    threshold, and how often people approved those drafts unchanged."""
    table: list[dict[str, object]] = []
    wanted = [("detector_class", name, floor) for name, floor in sorted(class_floors.items())]
    if ocr_floor is not None:
        wanted.append(("ocr_line", "OCR line", ocr_floor))
    for what, name, floor in wanted:
        seen = below = below_ok = 0
        for record, unchanged in records:
            confs = _confidences(json.loads(record), what, name)
            if not confs:
                continue
            seen += 1
            if min(confs) < floor:
                below += 1
                below_ok += bool(unchanged)
        table.append({"kind": what, "name": name, "threshold": floor, "reviewed_jobs": seen, "below": below,
                      "below_approved_unchanged": below_ok,
                      "below_precision": round(below_ok / below, 3) if below else None})
    return table


def _confidences(doc: dict[str, object], what: str, name: str) -> list[float]:
    found: list[float] = []
    for step in doc.get("steps") or []:  # type: ignore[attr-defined]
        result = step.get("result") or {}
        if what == "detector_class":
            found += [float(d.get("confidence") or 0) for d in result.get("detections") or []
                      if d.get("class_name") == name]
        else:
            lines = [ln for p in result.get("pages") or [] for ln in p.get("lines") or []]
            found += [float(ln.get("confidence") or 0) for ln in lines]
            found += [float(ln.get("confidence") or 0) for ln in result.get("unread_lines") or []]
    return found
