"""Threshold proposals from the review history."""

from __future__ import annotations

import pytest

from app.policy_stats import propose_threshold, wilson_lower


def synthetic_history() -> list[tuple[float, bool]]:
    """200 drafts: at confidence ≥ 0.80 reviewers approved all unchanged; below, every other one."""
    history = []
    for i in range(200):
        conf = round(0.5 + i * 0.0025, 4)
        history.append((conf, conf >= 0.8 or i % 2 == 0))
    return history


def test_proposed_threshold_is_the_lowest_that_keeps_precision() -> None:
    history = synthetic_history()
    p = propose_threshold(history, min_precision=0.95)
    assert p.threshold == 0.8
    above = [ok for conf, ok in history if conf >= p.threshold]
    assert p.support == len(above) == 80 and p.precision == 1.0
    assert p.lower_bound == pytest.approx(wilson_lower(80, 80)) and p.lower_bound >= 0.95
    # Just below, one wrong draft pulls the bound under the target.
    below = [ok for conf, ok in history if conf >= 0.7975]
    assert wilson_lower(sum(below), len(below)) < 0.95
    # A stricter target needs more evidence than this history has.
    assert propose_threshold(history, min_precision=0.99).threshold is None


def test_no_proposal_from_too_little_history() -> None:
    p = propose_threshold([(0.99, True)] * 29, min_precision=0.9)
    assert p.threshold is None and p.reason == "too little history: 29 reviewed drafts, need at least 30"


def test_wilson_lower_bound() -> None:
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(95, 100) == pytest.approx(0.8882, abs=1e-4)
