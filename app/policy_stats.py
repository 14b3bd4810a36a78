"""Threshold statistics over the review history: which auto-approval threshold it supports.

These are the admin's tools for earning automation (`jimoku policy propose`, the
dashboard); the graph only applies the threshold the admin sets (graphs/policy.py).
"""

from __future__ import annotations

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
