"""200 submissions from 20 clients on loopback: no 5xx, no lost job, bounded memory.

The server runs no workers here, so this measures what the API itself does under load
(accepting, storing, queueing, answering polls), on SQLite and on PostgreSQL. The soak with the real planner and tools is
`python -m tests.reliability.soak` (10 minutes; see tests/reliability/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.images import render_nameplate
from tests.fixtures.server import running_server
from tests.reliability.load import run_load

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_200_submissions_from_20_clients(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    plates = [render_nameplate(tmp_path / f"p{i}.png", [f"SERIAL NO. AX-{4400 + i}-B", "MODEL KX-200"])
              for i in range(5)]
    files = [(p.name, p.read_bytes()) for p in plates]
    env = {"JIMOKU_WORKERS": "0", "JIMOKU_WARM_UP": "false", "JIMOKU_RATE_LIMIT_PER_MINUTE": "100000",
           "JIMOKU_MAX_QUEUED_JOBS_PER_KEY": "1000"}  # one key's 200 jobs all stay queued here (no workers)
    url = request.getfixturevalue("postgres").new_database() if backend == "postgres" else None
    with running_server(tmp_path / "data", extra_env=env, database_url=url) as server:
        report = run_load(server.url, server.keys["submitter"], files, clients=20, submissions=200, seconds=180,
                          server_pid=server.proc.pid, questions=["What is the serial number?"])
        summary = report.summary()
        print(f"\nload: {summary}")
        assert report.errors == [] and report.server_errors == 0, summary
        assert len(report.submitted) == 200 and len(set(report.submitted)) == 200
        listed = server.client("admin").get("/v1/jobs", params={"limit": 500}).json()
        assert listed["count"] == 200 and {j["id"] for j in listed["data"]} == set(report.submitted)
        assert summary["rss_max_mb"] < summary["rss_start_mb"] + 300, summary  # bounded, not growing with load
        assert server.client().get("/healthz").status_code == 200
