"""Summaries of timing samples: median, p95 (nearest rank), and ratios between two paths."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any


def p95(samples: Sequence[float]) -> float:
    """The 95th percentile by nearest rank (with few samples this is the maximum)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """n, median, p95, min and max of samples given in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0, "median_ms": None, "p95_ms": None, "min_ms": None, "max_ms": None}
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 1), "p95_ms": round(p95(ms), 1),
            "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1)}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b rounded to 3 places, or None when either is missing or b is 0."""
    if a is None or not b:
        return None
    return round(a / b, 3)


def fmt_ms(value: float | None) -> str:
    """Milliseconds as text: '812 ms', '12.3 s' for long ones, '-' when missing."""
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
