"""The gold set through the service, beside the plain script, on the same cases in one run.

    python -m bench.gold [--only ID,KIND,...] [--before] [--one-round] [--submitters N] [--out DIR]

Sides, one after another so they never share the cores:
- `jimoku`: `jimoku serve` on its defaults (a fresh data folder), each case posted with its
  files and polled until it waits for review; wall time from the POST, the per-stage split
  from the job's timestamps and llama.cpp's own counters in its `planned`/`drafted` events;
- `before` (with `--before`): the same service with the code-written plan and answer of
  field questions off (`JIMOKU_FIELD_PLANS=0`, `JIMOKU_EXTRACTIVE_ANSWERS=0`), i.e. every
  plan and draft by the LLM, as before they existed;
- `one round` (with `--one-round`): the same service with looking again off
  (`JIMOKU_MAX_ROUNDS=1`), started beside the `jimoku` one and given each case in turn with it
  (`run_interleaved`): what the loop costs the cases that need no second round;
- `jimoku xN` (`--submitters`, default 4): the jimoku side again on a second fresh service,
  N submitters posting and polling at once: jobs per minute over the gold mix, beside the
  one-submitter side's and issue 14's figure;
- `plain`: `bench.plain`, the same models kept warm with no jimoku.
Each side is warmed by one job first (not counted). The gold cases share some files (a
plate asked for its serial and its model), so the service's result cache serves the second
OCR of a file, as it would in a factory; the plain script reads every file again.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from app.evaluation.cases import GoldCase, load_cases
from app.evaluation.metrics import score_case
from bench import coldstart, machine, plain, report
from bench.report import Row, Section
from bench.stats import ratio

CASES = Path("eval/cases")
MEDIAN_TARGET_S, P95_TARGET_S, RATIO_TARGET = 3.5, 6.0, 0.67
ISSUE_BASELINE_JOBS_PER_MIN, THROUGHPUT_TARGET = 11.7, 1.5
"""Issue 14's "today": 11.7 jobs/min with 4 clients (bench/README, the 2026-11-28 full run), every
job a nameplate the LLM planned and drafted."""
BEFORE_ENV = {"JIMOKU_FIELD_PLANS": "0", "JIMOKU_EXTRACTIVE_ANSWERS": "0"}
ONE_ROUND_ENV = {"JIMOKU_MAX_ROUNDS": "1"}
LOOP_COST_TARGET = 1.05
"""Issue 12: the look-again loop may add at most 5% to the jobs that take no second round."""


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _gap_s(doc: dict[str, Any], start: str, end: str) -> float | None:
    ts = doc.get("timestamps", {})
    first = doc.get("created_at") if start == "created" else ts.get(start)
    if not first or not ts.get(end):
        return None
    return (datetime.fromisoformat(ts[end]) - datetime.fromisoformat(first)).total_seconds()


def _service_case(client: httpx.Client, server: Any, case: GoldCase, poll_s: float = 0.125) -> dict[str, Any]:
    started = time.perf_counter()
    response = client.post("/v1/jobs", data={"question": case.question},
                           files=[("files", (f.name, f.read_bytes())) for f in case.files])
    if response.status_code != 202:
        raise RuntimeError(f"{case.id}: POST /v1/jobs answered {response.status_code}: {response.text[:200]}")
    job_id = response.json()["id"]
    while True:  # all submitters together stay under the per-key rate limit (600 requests a minute)
        got = client.get(f"/v1/jobs/{job_id}")
        if got.status_code == 200 and (doc := got.json())["status"] not in ("queued", "running"):
            break
        time.sleep(poll_s if got.status_code == 200 else 1.0)
    wall = time.perf_counter() - started
    events = {e: json.loads(d) for e, d in server.sql(
        f"SELECT event, data FROM job_events WHERE job_id = '{job_id}' AND event IN ('planned', 'drafted')")}
    plan_llm = events.get("planned", {}).get("llm") or {}
    draft_llm = events.get("drafted", {}).get("llm") or []
    return {
        "id": case.id, "wall_s": wall, "correct": score_case(case, doc, wall).correct, "answer": doc.get("draft_answer"),
        "draft_source": doc.get("draft_source"), "status": doc["status"],
        "plan_s": _gap_s(doc, "created", "planned"), "tools_s": _gap_s(doc, "planned", "executed"),
        "draft_s": _gap_s(doc, "executed", "drafted"), "checks_s": _gap_s(doc, "drafted", "checked"),
        "plan_prompt_ms": plan_llm.get("prompt_ms", 0.0), "plan_gen_ms": plan_llm.get("generation_ms", 0.0),
        "draft_prompt_ms": sum(c["prompt_ms"] for c in draft_llm), "draft_gen_ms": sum(c["generation_ms"] for c in draft_llm),
        "revisions": max(0, len(draft_llm) - 1), "llm_calls": int(bool(plan_llm)) + len(draft_llm),
        "rounds": len(doc.get("rounds") or [None]),
    }


def _client(server: Any) -> httpx.Client:
    """The service's HTTP client, as the submitter."""
    return httpx.Client(base_url=server.url, timeout=600, headers={"Authorization": f"Bearer {server.keys['submitter']}"})


def run_service(cases: list[GoldCase], data_dir: Path, extra_env: dict[str, str] | None = None,
                submitters: int = 1) -> tuple[list[dict[str, Any]], float]:
    """Each case through a fresh service, warmed by one job; with several submitters, that many
    post and poll at once (each case once, in order of submission), each polling less often.
    Returns the runs and the wall time of them all."""
    server, _ = coldstart.start(data_dir, extra_env=extra_env)
    try:
        client = _client(server)
        _service_case(client, server, cases[0])  # warm-up, not counted
        started = time.perf_counter()
        if submitters == 1:
            runs = [_service_case(client, server, case) for case in cases]
        else:
            with ThreadPoolExecutor(max_workers=submitters) as pool:
                runs = list(pool.map(lambda case: _service_case(client, server, case, poll_s=0.125 * submitters),
                                     cases))
        return runs, time.perf_counter() - started
    finally:
        coldstart.stop(server)


def run_interleaved(cases: list[GoldCase], data_dir: Path, envs: dict[str, dict[str, str]]
                    ) -> dict[str, tuple[list[dict[str, Any]], float]]:
    """The same cases through several services started side by side, each case posted to one
    after another (the order turned case by case), so a drift in the machine's speed falls on
    all alike: a difference of a few percent is then the configurations', not the minute's.
    Returns, per service, the runs and their summed wall."""
    started = {name: coldstart.start(data_dir / name.replace(" ", "-"), extra_env=env)[0] for name, env in envs.items()}
    try:
        clients = {name: _client(server) for name, server in started.items()}
        for name, server in started.items():
            _service_case(clients[name], server, cases[0])  # warm-up, not counted
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in envs}
        names = list(envs)
        for i, case in enumerate(cases):
            for name in names[i % len(names):] + names[:i % len(names)]:
                runs[name].append(_service_case(clients[name], started[name], case))
        return {name: (side, sum(r["wall_s"] for r in side)) for name, side in runs.items()}
    finally:
        for server in started.values():
            coldstart.stop(server)


def jobs_per_minute(runs: list[dict[str, Any]], wall_s: float) -> float:
    return 60 * len(runs) / wall_s if wall_s > 0 else 0.0


def run_plain(cases: list[GoldCase]) -> list[dict[str, Any]]:
    from llama_cpp import Llama

    from app.settings import Settings
    from app.tooling import load_registry
    from tools import models

    settings = Settings()
    registry, ctx = load_registry(settings), settings.tool_context()
    llama = Llama(model_path=str(models.ensure("planner", settings.model_dir)), n_ctx=8192, n_threads=2,
                  n_threads_batch=2, seed=7, verbose=False)
    plain.job(llama, cases[0].question, cases[0].files, registry, ctx)  # warm-up, not counted
    runs = []
    for case in cases:
        run = plain.job(llama, case.question, case.files, registry, ctx)
        doc = {"status": "awaiting_review", "draft_answer": run["answer"], "plan": [], "flags": []}
        runs.append({"id": case.id, **run, "correct": score_case(case, doc, run["wall_s"]).correct})
    return runs


def _median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else 0.0


def section(sides: dict[str, list[dict[str, Any]]], walls: dict[str, float]) -> Section:
    jimoku, base = sides["jimoku"], sides["plain"]
    med, p95 = _median(jimoku, "wall_s"), _p95([r["wall_s"] for r in jimoku])
    r = ratio(med, _median(base, "wall_s"))
    rows = [
        Row("gold", f"median wall per case, warm (n={len(jimoku)})", f"{med:.2f} s", f"{_median(base, 'wall_s'):.2f} s (plain)",
            r, f"≤ {MEDIAN_TARGET_S} s and ≤ {RATIO_TARGET}× plain", med <= MEDIAN_TARGET_S and r is not None and r <= RATIO_TARGET),
        Row("gold", "p95 wall per case", f"{p95:.2f} s", f"{_p95([r['wall_s'] for r in base]):.2f} s (plain)",
            None, f"≤ {P95_TARGET_S} s", p95 <= P95_TARGET_S),
    ]
    for name, side in sides.items():
        rows.append(Row("gold", f"{name}: accuracy; median / p95 wall", f"{sum(r['correct'] for r in side)}/{len(side)}; "
                        f"{_median(side, 'wall_s'):.2f} / {_p95([r['wall_s'] for r in side]):.2f} s"))
    for name in ("jimoku", "before"):
        if not (runs := sides.get(name, [])):
            continue
        rows.append(Row("gold", f"{name}: split, medians: plan / tools / draft / checks (s)", " / ".join(
            f"{_median(runs, k):.2f}" for k in ("plan_s", "tools_s", "draft_s", "checks_s"))))
        rows.append(Row("gold", f"{name}: LLM ms, means: plan prompt / gen, draft prompt / gen; revisions; code drafts",
                        " / ".join(f"{statistics.mean(r[k] for r in runs):.0f}" for k in
                                   ("plan_prompt_ms", "plan_gen_ms", "draft_prompt_ms", "draft_gen_ms"))
                        + f"; {sum(r['revisions'] for r in runs)}; {sum(r['draft_source'] == 'code' for r in runs)}/{len(runs)}"))
    rows.append(Row("gold", "plain: split, medians: plan / tools / draft (s)",
                    " / ".join(f"{_median(base, k):.2f}" for k in ("plan_s", "tools_s", "draft_s"))))
    rows += _throughput_rows(sides, walls) + _loop_cost_rows(sides)
    return Section("gold side by side", rows=rows, raw={**sides, "walls_s": walls})


def _loop_cost_rows(sides: dict[str, list[dict[str, Any]]]) -> list[Row]:
    """What looking again costs the jobs that did not need it: their summed wall, with the loop
    on (jimoku) and off (`--one-round`), over the cases one round answered on both sides."""
    if not (off := {r["id"]: r for r in sides.get("one round", [])}):
        return []
    same = [r for r in sides["jimoku"] if r.get("rounds", 1) == 1 and off.get(r["id"], {}).get("rounds", 1) == 1]
    on_s, off_s = sum(r["wall_s"] for r in same), sum(off[r["id"]]["wall_s"] for r in same)
    r = ratio(on_s, off_s)
    return [Row("gold", f"look-again loop: summed wall of the cases one round answered (n={len(same)})",
                f"{on_s:.1f} s", f"{off_s:.1f} s (JIMOKU_MAX_ROUNDS=1)", r, f"≤ {LOOP_COST_TARGET}×",
                r is not None and r <= LOOP_COST_TARGET)]


def _throughput_rows(sides: dict[str, list[dict[str, Any]]], walls: dict[str, float]) -> list[Row]:
    """Jobs per minute over the gold mix: one submitter, then several on a second fresh service."""
    one = jobs_per_minute(sides["jimoku"], walls["jimoku"])
    rows = [Row("gold", "jobs/min, 1 submitter", f"{one:.1f}/min", f"{ISSUE_BASELINE_JOBS_PER_MIN}/min (issue 14's figure)",
                ratio(one, ISSUE_BASELINE_JOBS_PER_MIN))]
    for name, runs in sides.items():
        if not name.startswith("jimoku x"):
            continue
        many = jobs_per_minute(runs, walls[name])
        rows.append(Row("gold", f"jobs/min, {name[len('jimoku x'):]} submitters; accuracy; job wall median / p95",
                        f"{many:.1f}/min; {sum(r['correct'] for r in runs)}/{len(runs)}; "
                        f"{_median(runs, 'wall_s'):.2f} / {_p95([r['wall_s'] for r in runs]):.2f} s",
                        f"{ISSUE_BASELINE_JOBS_PER_MIN}/min (issue 14's figure); {one:.1f}/min (1 submitter)",
                        ratio(many, ISSUE_BASELINE_JOBS_PER_MIN), f"≥ {THROUGHPUT_TARGET}× {ISSUE_BASELINE_JOBS_PER_MIN}/min",
                        many >= THROUGHPUT_TARGET * ISSUE_BASELINE_JOBS_PER_MIN))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gold", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="case ids or kinds, comma-separated")
    parser.add_argument("--before", action="store_true", help="also the service with the code-written plan and answer off")
    parser.add_argument("--one-round", action="store_true",
                        help="also the service with looking again off (JIMOKU_MAX_ROUNDS=1): what the loop costs")
    parser.add_argument("--submitters", type=int, default=4,
                        help="then the jimoku side again on a fresh service with this many submitters at once (0: not)")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    cases = load_cases(CASES, {s for s in args.only.split(",") if s} or None)
    started_at, t0 = datetime.now().astimezone(), time.perf_counter()
    monitor = machine.LoadMonitor()
    monitor.start()
    sides: dict[str, list[dict[str, Any]]] = {}
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="jimoku-gold-") as tmp:
        if args.one_round:
            both = run_interleaved(cases, Path(tmp), {"jimoku": {}, "one round": ONE_ROUND_ENV})
            for name, (runs, wall) in both.items():
                sides[name], walls[name] = runs, wall
        else:
            sides["jimoku"], walls["jimoku"] = run_service(cases, Path(tmp) / "jimoku")
        if args.submitters > 1:
            name = f"jimoku x{args.submitters}"
            sides[name], walls[name] = run_service(cases, Path(tmp) / "many", submitters=args.submitters)
        if args.before:
            sides["before"], walls["before"] = run_service(cases, Path(tmp) / "before", BEFORE_ENV)
    sides["plain"] = run_plain(cases)
    doc = report.document([section(sides, walls)], {
        "started_at": started_at.isoformat(timespec="seconds"), "mode": "gold",
        "config": {"only": args.only, "before": args.before, "one_round": args.one_round,
                   "submitters": args.submitters}, "wall_s": round(time.perf_counter() - t0, 1),
        "machine": machine.describe(), "load": monitor.stop()})
    report.write(doc, args.out, f"{started_at:%Y-%m-%d}-gold")
    print(report.markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
