"""Cold `jimoku ask`: a user's first command from a fresh process, beside the same job warm.

For each kind of question (a field question, planned and answered in code; an open one,
planned and drafted by the LLM) on a new nameplate:

- cold: `jimoku ask --json` in a fresh process with its own data folder, timed from
  outside; the command's own `timing` says how long the job took, how much of it was
  loading the planner, and how long the process had run (imports included);
- warm: a child process runs the same engine on another plate (warming every model) and
  then, timed, on the cold job's plate: the job as a warm service would run it.

cold wall = warm job + planner load + the rest (Python start and imports, the database,
the tools' models); the rows give each part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.inputs import OPEN_QUESTION, QUESTION, Inputs
from bench.report import Row, Section

TIMEOUT_S = 600


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIMOKU_") and k != "PYTHONPATH"}
    return {**env, "JIMOKU_DATA_DIR": str(data_dir)}


def cold(question: str, plate: Path, data_dir: Path) -> dict[str, Any]:
    """One `jimoku ask --json` in a fresh process: its wall and its own timing."""
    jimoku = Path(sys.executable).with_name("jimoku")
    started = time.perf_counter()
    done = subprocess.run([str(jimoku), "ask", "--json", question, str(plate)], capture_output=True, text=True,
                          env=_env(data_dir), timeout=TIMEOUT_S, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"jimoku ask exited {done.returncode}: {done.stderr[-500:]}")
    doc = json.loads(done.stdout)
    return {"wall_s": round(wall, 2), "timing": doc["timing"], "status": doc["status"],
            "draft": doc["draft_answer"], "draft_source": doc.get("draft_source")}


def warm(question: str, first: Path, second: Path, data_dir: Path) -> dict[str, Any]:
    """The same engine in a child process: one job to warm it, then the timed one."""
    done = subprocess.run([sys.executable, "-m", "bench.coldask", question, str(first), str(second)],
                          capture_output=True, text=True, env=_env(data_dir), timeout=TIMEOUT_S, check=False,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"warm child exited {done.returncode}: {done.stderr[-500:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(inputs: Inputs, tmp: Path) -> Section:
    """Both kinds of question, cold and warm; one row each and their parts."""
    section = Section("cold ask", notes=[
        "cold: `jimoku ask --json` in a fresh process, a fresh data folder; warm: the same engine's second job "
        "in one process; 'the rest' = cold wall - warm job - planner load (Python start and imports, the "
        "database, the tools' model loads)"])
    for kind, question in (("field", QUESTION), ("open", OPEN_QUESTION)):
        # The warm job reads the cold job's plate (its own data folder: no cache), so the two
        # drafts are the same answer of the same length; another plate warms the engine.
        plate = inputs.plate(f"cold-{kind}")
        c = cold(question, plate, tmp / f"cold-{kind}")
        w = warm(question, inputs.plate(f"warm-{kind}"), plate, tmp / f"warm-{kind}")
        section.raw[kind] = {"cold": c, "warm": w}
        load = float(c["timing"]["planner_load_s"])
        rest = c["wall_s"] - w["job_s"] - load
        bound = w["job_s"] + load
        section.rows += [
            Row(f"cold ask, {kind} question", "fresh `jimoku ask` wall vs warm job + planner load",
                f"{c['wall_s']:.1f} s", f"{w['job_s']:.1f} s + {load:.1f} s", round(c["wall_s"] / bound, 2),
                "≤ warm + model load", None),
            Row(f"cold ask, {kind} question", "of the cold wall: the job / planner load in it / the rest",
                f"{c['timing']['job_s']:.1f} s / {load:.1f} s / {rest:.1f} s",
                f"process ran {c['timing']['process_s']} s by its own clock"),
        ]
    return section


def _warm_child(question: str, first: Path, second: Path) -> None:
    """Print the timed second job's seconds (one JSON line)."""
    from app.engine import Engine
    from app.settings import get_settings

    engine = Engine(get_settings())
    try:
        for path in (first, second):
            started = time.perf_counter()
            job = engine.run(engine.submit(question, [(path, path.name)]).id)
            seconds = time.perf_counter() - started
        print(json.dumps({"job_s": round(seconds, 2), "status": job.status}))
    finally:
        engine.close()


if __name__ == "__main__":
    _warm_child(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
