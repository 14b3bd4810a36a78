"""Faults and races: nothing accepted is lost, no decision is lost or applied twice.

The engine runs over real SQLite with the real tools; the planner is scripted (its
failures are what is injected), except where a process really dies.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.engine import Engine
from app.errors import Conflict
from app.settings import Settings
from graphs.testing import ScriptedChatModel
from tests.fixtures.images import render_nameplate
from tools.registry import REGISTRY, ToolResult, tool

PLAN = {"steps": [{"tool": "ocr", "file": "f1"}]}
DRAFT = {"answer": "Serial AX-4471-B.", "citations": ["s1"], "answerable": True}


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return render_nameplate(tmp_path / "plate.png")


@pytest.fixture
def make_engine(tmp_path: Path, registry: Any) -> Callable[..., Engine]:
    def make(replies: list[Any], **settings: Any) -> Engine:
        return Engine(Settings(data_dir=tmp_path / "data", **settings), llm=ScriptedChatModel(list(replies)))

    return make


def waiting_job(engine: Engine, plate: Path) -> str:
    job = engine.run(engine.submit("Serial?", [(plate, "plate.png")]).id)
    assert job.status == "awaiting_review"
    return job.id


def test_two_reviewers_at_the_same_instant(make_engine: Callable[..., Engine], plate: Path) -> None:
    engine = make_engine([PLAN, DRAFT])
    job_id = waiting_job(engine, plate)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(who: str, decision: dict[str, Any]) -> None:
        start.wait()
        try:
            engine.review(job_id, decision | {"reviewer": who})
            outcomes.append(f"won:{who}")
        except Conflict as exc:
            outcomes.append(f"409:{exc}")

    threads = [threading.Thread(target=decide, args=("ana", {"decision": "approve"})),
               threading.Thread(target=decide, args=("ben", {"decision": "edit", "answer": "Serial AX-4471."}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(winners) == 1 and len(outcomes) == 2
    assert "already been decided" in next(o for o in outcomes if o.startswith("409"))
    review = engine.state(job_id)["review"]
    assert review["reviewer"] == winners[0].removeprefix("won:")
    assert engine.jobs.decision(job_id).applied is True


def test_the_same_job_run_twice_at_once_runs_once(make_engine: Callable[..., Engine], plate: Path) -> None:
    planned = threading.Event()

    def slow_plan(messages: Any, schema: Any) -> dict[str, Any]:
        planned.set()
        time.sleep(0.5)
        return PLAN

    engine = make_engine([slow_plan, DRAFT])
    job = engine.submit("Serial?", [(plate, "plate.png")])
    first = threading.Thread(target=engine.run, args=(job.id,))
    first.start()
    planned.wait(10)
    assert engine.run(job.id).status == "running"  # the second call sees it running and leaves it
    first.join()
    assert engine.jobs.get(job.id).status == "awaiting_review"
    assert engine.jobs.get(job.id).attempts == 1


def test_concurrent_jobs_on_the_same_file_read_it_once(make_engine: Callable[..., Engine], plate: Path) -> None:
    calls: list[str] = []

    @tool(accepts=["image"], name="counting_reader")
    def counting_reader(file: Path) -> ToolResult:
        """Read a plate slowly, counting calls.

        Args:
            file: The photo.
        """
        calls.append(file.name)
        time.sleep(0.5)
        return ToolResult(summary="SERIAL NO. AX-4471-B", confidence=0.9)

    try:
        plan = {"steps": [{"tool": "counting_reader", "file": "f1"}]}
        engine = make_engine([plan, plan, DRAFT, DRAFT])
        jobs = [engine.submit("Serial?", [(plate, f"copy{i}.png")]).id for i in range(2)]
        threads = [threading.Thread(target=engine.run, args=(j,)) for j in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(calls) == 1  # same bytes, same tool version and arguments: one run
        steps = [engine.state(j)["steps"][0] for j in jobs]
        assert sorted(s["cached"] for s in steps) == [False, True]
        assert all(engine.jobs.get(j).status == "awaiting_review" for j in jobs)
    finally:
        REGISTRY.remove("counting_reader")


def test_decision_recorded_before_a_crash_is_applied_once_on_restart(make_engine: Callable[..., Engine], plate: Path) -> None:
    engine = make_engine([PLAN, DRAFT])
    job_id = waiting_job(engine, plate)
    # The process records the decision, then dies before resuming the graph.
    engine.jobs.record_decision(job_id, {"decision": "edit", "answer": "Serial AX-4471-B, checked.", "reviewer": "ana"})
    restarted = make_engine([])
    (job,) = restarted.apply_pending_decisions()
    assert job.status == "approved"
    assert restarted.state(job_id)["final_answer"] == "Serial AX-4471-B, checked."
    assert restarted.apply_pending_decisions() == []  # applied once
    with pytest.raises(Conflict):
        restarted.review(job_id, {"decision": "approve", "reviewer": "ben"})


def test_planner_that_cannot_load_fails_the_job_with_the_reason(tmp_path: Path, plate: Path, registry: Any) -> None:
    engine = Engine(Settings(data_dir=tmp_path / "data", planner_model=tmp_path / "missing.gguf"))
    job = engine.run(engine.submit("Serial?", [(plate, "plate.png")]).id)
    assert job.status == "failed"
    assert f"planner model {tmp_path / 'missing.gguf'} does not exist" in job.error


def test_a_locked_database_delays_but_loses_nothing(make_engine: Callable[..., Engine], plate: Path, tmp_path: Path) -> None:
    engine = make_engine([])
    blocker = sqlite3.connect(tmp_path / "data" / "jimoku.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    done: list[str] = []
    t = threading.Thread(target=lambda: done.append(engine.submit("Serial?", [(plate, "p.png")]).id))
    t.start()
    time.sleep(1.5)
    assert done == []  # waiting for the lock, not failing
    blocker.execute("COMMIT")
    t.join(30)
    assert len(done) == 1 and engine.jobs.get(done[0]).status == "queued"


def test_full_disk_refuses_the_upload_and_keeps_what_was_accepted(make_engine: Callable[..., Engine], plate: Path,
                                                                  tmp_path: Path) -> None:
    engine = make_engine([])
    kept = engine.submit("Serial?", [(plate, "plate.png")])
    artifacts = tmp_path / "data" / "artifacts"
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(artifacts)], capture_output=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode().strip()}")
    try:
        big = tmp_path / "big.png"
        render_nameplate(big, ["SERIAL NO. AX-4471-B"] * 40)
        assert big.stat().st_size > 64 * 1024
        with pytest.raises(OSError) as err:
            engine.submit("Serial?", [(big, "big.png")])
        assert err.value.errno == 28  # ENOSPC: the caller is told (the API answers 507)
        assert [j.id for j in engine.jobs.list()] == [kept.id]  # no half-made job
    finally:
        subprocess.run(["umount", str(artifacts)], check=True)
    assert engine.jobs.get(kept.id).status == "queued"


DYING_TOOL = '''
import os
from pathlib import Path
from tools import ToolResult, tool


@tool(accepts=["image"], timeout=60)
def pressure_gauge(file: Path) -> ToolResult:
    """Read the pressure in bar shown by the needle of an analogue pressure gauge.

    Args:
        file: Photo of the gauge face.
    """
    os._exit(13)  # a native crash: the whole process dies
'''


def test_a_tool_that_kills_its_process_fails_the_job_after_three_tries(tmp_path: Path, plate: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "pressure_gauge.py").write_text(DYING_TOOL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIMOKU_")}
    env.update(JIMOKU_DATA_DIR=str(tmp_path / "data"), JIMOKU_PLUGINS_DIR=str(plugins),
               JIMOKU_PLUGINS="pressure_gauge")

    def jimoku(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=600)

    first = jimoku("ask", "What pressure does the gauge show?", str(plate))
    assert first.returncode == 13  # the tool took the process down
    for attempt in (2, 3):
        assert jimoku("resume").returncode == 13, attempt
    final = jimoku("resume")
    assert final.returncode == 0
    (line,) = final.stdout.splitlines()
    assert "failed (the worker stopped 3 times while running this job" in line
    job_id = line.split(":")[0]
    refused = jimoku("review", job_id, "--approve")
    assert refused.returncode == 2 and "is failed, not awaiting review" in refused.stderr
    assert f"{job_id}  failed" in jimoku("jobs").stdout
