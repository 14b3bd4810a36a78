"""The benchmark harness end to end on its cheapest stage: one tool through the real service.

No LLM: the service starts without warm-up and with only the OCR tool, the OCR stage runs
two repetitions on one rendered nameplate, and the report is written as JSON + Markdown.
Only the shape of the output is checked, never a speed.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

from app.settings import Settings
from bench import coldstart, machine, report
from bench import tools as bench_tools
from bench.__main__ import document
from bench.inputs import Inputs


def test_ocr_stage_writes_a_json_and_markdown_pair(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    monitor = machine.LoadMonitor(interval_s=1)
    monitor.start()
    inputs = Inputs(tmp_path / "inputs")
    server, cold = coldstart.start(tmp_path / "service", extra_env={"JIMOKU_WARM_UP": "false", "JIMOKU_PLUGINS": "ocr"})
    try:
        section = bench_tools.measure(server, inputs, Settings().tool_context(), reps=2, names=("ocr",))
    finally:
        coldstart.stop(server)
    doc = document([section, cold], "test", {"reps": 2}, datetime.now().astimezone(), t0, monitor)
    json_path, md_path = report.write(doc, tmp_path / "results", "test")

    loaded = json.loads(json_path.read_text())
    assert loaded["mode"] == "test" and loaded["machine"]["nproc"] >= 1
    ocr = loaded["sections"]["tools"]["raw"]["ocr"]
    assert len(ocr["service_s"]) == len(ocr["direct_s"]) == 2
    assert all(t > 0 for t in ocr["service_s"] + ocr["direct_s"] + ocr["service_in_tool_s"])
    rows = loaded["sections"]["tools"]["rows"]
    assert rows[0]["area"] == "tool ocr" and isinstance(rows[0]["ratio"], float) and isinstance(rows[0]["met"], bool)
    assert loaded["sections"]["cold start"]["raw"]["ready_s"] > 0

    markdown = md_path.read_text()
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert table[0].startswith("| area | measure | jimoku |")
    assert len(table) == 2 + len(rows) + len(loaded["sections"]["cold start"]["rows"])
    assert all(line.count("|") == table[0].count("|") for line in table)
    assert "Targets met: " in markdown
