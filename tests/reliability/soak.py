"""Soak: the real service (planner, tools, workers) under a steady load for a while.

    .venv/bin/python -m tests.reliability.soak [--minutes 10] [--rate 6]

Submits `rate` jobs per minute from 4 clients, with a mix of nameplates, memos and
people photos, lets the queue drain, and reports whether every accepted job reached
review or a final state, none twice, and how the server's memory moved. Prints one JSON
summary line. Not part of the README test command (too long).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

from tests.fixtures.audio import flite_wav
from tests.fixtures.images import render_nameplate
from tests.fixtures.server import running_server
from tests.reliability.load import run_load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=6, help="submissions per minute")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jimoku-soak-") as tmp_dir:
        tmp = Path(tmp_dir)
        spec = importlib.util.find_spec("ultralytics")
        bus = Path(next(iter(spec.submodule_search_locations))) / "assets" / "bus.jpg"  # type: ignore[union-attr]
        files = [(p.name, p.read_bytes()) for p in (
            render_nameplate(tmp / "plate.png"), flite_wav("Machine K X 200 is overheating.", tmp / "memo.wav"), bus)]
        questions = ["What is the serial number?", "Which machine is overheating?", "How many people are there?"]
        with running_server(tmp / "data") as server:
            seconds = args.minutes * 60
            clients = 4
            report = run_load(server.url, server.keys["submitter"], files, clients=clients,
                              submissions=int(args.rate * args.minutes) + 1, seconds=seconds,
                              server_pid=server.proc.pid, questions=questions, interval=clients * 60 / args.rate)
            admin = server.client("admin")
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:  # let the queue drain, bounded
                counts = {s: admin.get("/v1/jobs", params={"status": s}).json()["count"] for s in ("queued", "running")}
                if not any(counts.values()):
                    break
                time.sleep(5)
            jobs = admin.get("/v1/jobs", params={"limit": 500}).json()["data"]
            states = {}
            for job in jobs:
                states[job["status"]] = states.get(job["status"], 0) + 1
            lost = set(report.submitted) - {j["id"] for j in jobs}
            print(json.dumps(report.summary() | {"final_states": states, "lost": len(lost),
                                                 "duplicates": len(report.submitted) - len(set(report.submitted))}))


if __name__ == "__main__":
    main()
