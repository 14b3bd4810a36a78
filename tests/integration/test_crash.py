"""A worker process killed (SIGKILL) mid-run: the job resumes from its last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.fixtures.images import render_nameplate

pytestmark = pytest.mark.slow

SLOW_TOOL = '''
import time
from pathlib import Path

from tools import ToolContext, ToolResult, tool


@tool(accepts=["image"], timeout=120)
def pressure_gauge(file: Path, ctx: ToolContext) -> ToolResult:
    """Read the pressure in bar shown by the needle of an analogue pressure gauge.

    Args:
        file: Photo of the gauge face.
    """
    marker = Path(ctx.extra["marker"])
    if not marker.exists():
        marker.write_text(str(time.time()))
        time.sleep(120)  # the first run hangs here until the test kills the process
    return ToolResult(summary="The needle points at 4.2 bar.", confidence=0.9)
'''


def _env(tmp_path: Path) -> dict[str, str]:
    plugins = tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "pressure_gauge.py").write_text(SLOW_TOOL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIMOKU_")}
    env.update(
        JIMOKU_DATA_DIR=str(tmp_path / "data"),
        JIMOKU_PLUGINS_DIR=str(plugins),
        JIMOKU_PLUGINS="pressure_gauge",
        JIMOKU_TOOL_EXTRA=json.dumps({"marker": str(tmp_path / "started")}),
    )
    return env


def _jimoku(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=600)


def test_killed_mid_run_resumes_after_restart(tmp_path: Path) -> None:
    env = _env(tmp_path)
    photo = render_nameplate(tmp_path / "gauge.png", ["0  2  4  6  8", "bar"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "ask", "What pressure does the gauge show?", str(photo)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    marker = tmp_path / "started"
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the tool never started"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)  # the worker dies inside the execute step
    proc.wait()

    (line,) = _jimoku(env, "jobs").stdout.splitlines()
    job_id, status = line.split()[:2]
    assert status == "running"  # recorded, not lost

    resumed = _jimoku(env, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == f"{job_id}: awaiting_review"

    review = _jimoku(env, "review", job_id, "--approve", "--json")
    assert review.returncode == 0, review.stderr
    doc = json.loads(review.stdout)
    assert doc["status"] == "approved"
    assert [(s["tool"], s["ok"]) for s in doc["steps"]] == [("pressure_gauge", True)]
    # The plan was made once, before the kill; the resumed run did not plan again.
    planned_at = datetime.fromisoformat(doc["timestamps"]["planned"]).timestamp()
    assert planned_at < float(marker.read_text())
    assert "4.2" in doc["final_answer"]
