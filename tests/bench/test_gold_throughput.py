"""bench.gold's jobs-per-minute rows: counted from the runs and the wall time of them all."""

from __future__ import annotations

from bench.gold import ISSUE_BASELINE_JOBS_PER_MIN, THROUGHPUT_TARGET, section


def _runs(n: int, wall_s: float) -> list[dict[str, object]]:
    return [{"id": f"c{i}", "wall_s": wall_s, "correct": i % 2 == 0, "draft_source": "code", "plan_s": 0.0,
             "tools_s": 0.0, "draft_s": 0.0, "checks_s": 0.0, "plan_prompt_ms": 0.0, "plan_gen_ms": 0.0,
             "draft_prompt_ms": 0.0, "draft_gen_ms": 0.0, "revisions": 0} for i in range(n)]


def test_jobs_per_minute_for_one_and_for_several_submitters() -> None:
    sides = {"jimoku": _runs(10, 3.0), "jimoku x4": _runs(10, 6.0), "plain": _runs(10, 5.0)}
    rows = {r.measure: r for r in section(sides, {"jimoku": 30.0, "jimoku x4": 20.0}).rows}
    assert rows["jobs/min, 1 submitter"].jimoku == "20.0/min"
    many = rows["jobs/min, 4 submitters; accuracy; job wall median / p95"]
    assert many.jimoku == "30.0/min; 5/10; 6.00 / 6.00 s"
    assert THROUGHPUT_TARGET * ISSUE_BASELINE_JOBS_PER_MIN < 30.0
    assert many.met is True
    slow = {r.measure: r for r in section(sides, {"jimoku": 30.0, "jimoku x4": 600.0}).rows}
    assert slow["jobs/min, 4 submitters; accuracy; job wall median / p95"].met is False


def test_the_loop_cost_compares_only_cases_one_round_answered_on_both_sides() -> None:
    jimoku = [{**r, "rounds": 1} for r in _runs(4, 2.0)]
    jimoku[3] = {**jimoku[3], "rounds": 2, "wall_s": 9.0}  # took a second look: not compared
    off = [{**r, "rounds": 1} for r in _runs(4, 1.95)]
    sides = {"jimoku": jimoku, "one round": off, "plain": _runs(4, 5.0)}
    rows = {r.measure: r for r in section(sides, {"jimoku": 15.0}).rows}
    loop = rows["look-again loop: summed wall of the cases one round answered (n=3)"]
    assert (loop.jimoku, loop.baseline, loop.ratio, loop.met) == ("6.0 s", "5.8 s (JIMOKU_MAX_ROUNDS=1)", 1.026, True)
