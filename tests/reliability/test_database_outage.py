"""PostgreSQL goes down under a running API and comes back: clear 503s meanwhile, nothing
accepted is lost, and the service recovers by itself (no restart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.images import render_nameplate
from tests.fixtures.postgres import running_postgres
from tests.fixtures.server import running_server

pytestmark = pytest.mark.slow


def test_api_answers_503_while_postgres_is_down_and_recovers(tmp_path: Path) -> None:
    plate = render_nameplate(tmp_path / "plate.png")
    files = [("files", (plate.name, plate.read_bytes()))]
    with running_postgres() as pg:  # a server of its own, to stop
        env = {"JIMOKU_WARM_UP": "false"}
        with running_server(tmp_path / "data", database_url=pg.new_database(), extra_env=env) as server:
            submitter = server.client("submitter")
            before = submitter.post("/v1/jobs", data={"question": "Serial?"}, files=files)
            assert before.status_code == 202
            pg.stop()
            try:
                down = submitter.post("/v1/jobs", data={"question": "Serial?"}, files=files)
                assert down.status_code == 503, down.text
                assert "database is unreachable" in down.json()["detail"] and down.headers["retry-after"] == "5"
                ready = server.client().get("/readyz")
                assert ready.status_code == 503 and ready.json()["database"].startswith("unreachable")
                assert server.client().get("/healthz").status_code == 200  # the process itself is fine
            finally:
                pg.start()
            after = submitter.post("/v1/jobs", data={"question": "Serial?"}, files=files)
            assert after.status_code == 202, after.text
            assert server.client().get("/readyz").json()["database"] == "ok"
            ids = {j["id"] for j in server.client("admin").get("/v1/jobs").json()["data"]}
            assert ids == {before.json()["id"], after.json()["id"]}  # the accepted ones, no half-stored one
