"""SIGKILL the service with one job queued and one awaiting review: both survive and finish."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.images import render_nameplate
from tests.fixtures.server import running_server, wait_for_status

pytestmark = pytest.mark.slow


def test_jobs_survive_a_kill(tmp_path: Path) -> None:
    plate = render_nameplate(tmp_path / "plate.png")
    data = tmp_path / "data"

    def submit(client, question: str) -> str:
        r = client.post("/v1/jobs", data={"question": question}, files=[("files", ("plate.png", plate.read_bytes()))])
        assert r.status_code == 202, r.text
        return r.json()["id"]

    with running_server(data, extra_env={"JIMOKU_WORKERS": "1"}) as server:
        client = server.client("submitter")
        waiting = submit(client, "What is the serial number?")
        wait_for_status(client, waiting, {"awaiting_review"})
        running = submit(client, "Which model is it?")
        queued = submit(client, "What voltage does it take?")
        wait_for_status(client, running, {"running"})
        assert client.get(f"/v1/jobs/{queued}").json()["status"] == "queued"
        keys = dict(server.keys)
        server.kill()

    with running_server(data, extra_env={"JIMOKU_WORKERS": "1"}) as server:
        server.keys.update(keys)
        client, reviewer = server.client("submitter"), server.client("reviewer")
        assert client.get(f"/v1/jobs/{waiting}").json()["status"] == "awaiting_review"
        for job in (running, queued):
            wait_for_status(client, job, {"awaiting_review"})
        for job in (waiting, running, queued):
            assert reviewer.post(f"/v1/reviews/{job}", json={"decision": "approve"}).status_code == 200
            assert client.get(f"/v1/jobs/{job}").json()["status"] == "approved"
        # The job that was running when the server died was tried twice, and says so nowhere as an error.
        assert client.get(f"/v1/jobs/{running}").json()["error"] is None
