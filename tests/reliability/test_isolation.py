"""Submitters isolated, revocation immediate: the outside probe of issue 15, through the real API.

On both backends (SQLite with in-process workers; PostgreSQL with a `jimoku worker`), the
scripted planner (`tests/fixtures/timed_planner.py`, real tools):

- the isolation matrix: endpoint (GET a job, the job list, its event stream, its uploaded
  file) × caller (submitter A, submitter B, reviewer, admin) × owner (A's job, B's job).
  A submitter sees only its own; another's job and file answer 404 exactly as an absent
  one does; reviewers and admins see all;
- an open SSE stream ends within 5 s of its key being revoked through the admin API, and
  within 5 s of a reviewer key (streaming a job it did not submit) being lowered to
  submitter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.images import NAMEPLATE_LINES, render_nameplate
from tests.fixtures.server import Server, backend_server, wait_for_status
from tests.fixtures.timed_planner import SCRIPTED_ENV

pytestmark = pytest.mark.slow

SCRIPTED = SCRIPTED_ENV
CALLERS = ("A", "B", "reviewer", "admin")
OWNERS = ("A", "B")
SETTLED = {"awaiting_review", "approved", "rejected", "failed"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh service per backend (as `tests/conftest.py`'s `database_url`: None or a new PostgreSQL database)."""
    with backend_server(request, tmp_path_factory, "isolation", SCRIPTED) as server:
        yield server


def new_key(server: Server, role: str, name: str) -> dict:
    made = server.client("admin").post("/v1/keys", json={"role": role, "name": name})
    assert made.status_code == 201, made.text
    return made.json()


def submit(client: httpx.Client, plate: Path) -> str:
    response = client.post("/v1/jobs", data={"question": "What is the serial number on this plate?"},
                           files=[("files", (plate.name, plate.read_bytes()))])
    assert response.status_code == 202, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def world(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two submitter apps, each with a job about a plate of its own; clients for every caller."""
    folder = tmp_path_factory.mktemp("plates")
    clients = {"A": server.client(key=new_key(server, "submitter", "line 3 app")["key"]),
               "B": server.client(key=new_key(server, "submitter", "line 7 app")["key"]),
               "reviewer": server.client("reviewer"), "admin": server.client("admin")}
    jobs, shas = {}, {}
    for owner, serial in (("A", "AX-4471-B"), ("B", "BQ-1180-C")):
        plate = render_nameplate(folder / f"plate-{owner}.png", (f"SERIAL NO. {serial}", *NAMEPLATE_LINES[1:]))
        jobs[owner] = submit(clients[owner], plate)
    for owner, job_id in jobs.items():
        doc = wait_for_status(clients[owner], job_id, SETTLED, timeout=120)
        assert doc["status"] == "awaiting_review", doc
        shas[owner] = doc["files"][0]["sha256"]
    assert shas["A"] != shas["B"]
    return {"clients": clients, "jobs": jobs, "shas": shas}


def sees(caller: str, owner: str) -> bool:
    return caller in ("reviewer", "admin") or caller == owner


def first_event(client: httpx.Client, job_id: str) -> tuple[int, str | None]:
    """The stream's status, and the name of its first event (None when it is not a stream)."""
    with client.stream("GET", f"/v1/jobs/{job_id}/events", timeout=30) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.json()["detail"]
        for line in response.iter_lines():
            if line.startswith("event: "):
                return 200, line.removeprefix("event: ")
    return 200, None


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("owner", OWNERS)
def test_job_document_events_and_artifact(world: dict, caller: str, owner: str) -> None:
    client, job_id, sha = world["clients"][caller], world["jobs"][owner], world["shas"][owner]
    doc = client.get(f"/v1/jobs/{job_id}")
    streamed = first_event(client, job_id)
    artifact = client.get(f"/v1/artifacts/{sha}")
    if sees(caller, owner):
        assert doc.status_code == 200 and doc.json()["id"] == job_id
        assert streamed == (200, "queued")
        assert artifact.status_code == 200 and len(artifact.content) > 100
    else:
        # Exactly what a job or file that does not exist answers: nothing says it exists.
        absent_job, absent_sha = "0" * 16, "0" * 64
        assert (doc.status_code, doc.json()["detail"]) == (404, f"no job {job_id}")
        assert client.get(f"/v1/jobs/{absent_job}").json()["detail"] == f"no job {absent_job}"
        assert streamed == (404, f"no job {job_id}")
        assert first_event(client, absent_job) == (404, f"no job {absent_job}")
        assert (artifact.status_code, artifact.json()["detail"]) == (404, f"no artifact {sha}")
        assert client.get(f"/v1/artifacts/{absent_sha}").json()["detail"] == f"no artifact {absent_sha}"
        assert not any(v in doc.text + artifact.text for v in ("AX-4471", "BQ-1180", "question"))


@pytest.mark.parametrize("caller", CALLERS)
def test_job_list(world: dict, caller: str) -> None:
    client, jobs = world["clients"][caller], world["jobs"]
    for params in ({"limit": 500}, {"limit": 500, "status": "awaiting_review"}, {"limit": 1, "offset": 0}):
        listed = client.get("/v1/jobs", params=params).json()
        ids = {j["id"] for j in listed["data"]}
        for owner in OWNERS:
            if params["limit"] > 1:
                assert (jobs[owner] in ids) == sees(caller, owner), (caller, owner, params)
        if caller in OWNERS:  # the count is of the caller's own jobs, too
            assert ids <= {jobs[caller]} and listed["count"] == 1, (params, listed)
        else:
            assert listed["count"] >= 2


def stream_until_closed(client: httpx.Client, job_id: str, act: object) -> tuple[list[str], float]:
    """Open the job's stream, call `act()` on its first event, read until the server ends the
    stream; returns the event names and the seconds from `act()` to the end. A stream still open
    10 s after the last line fails with a read timeout (keep-alives come every 15 s)."""
    names: list[str] = []
    acted = 0.0
    with client.stream("GET", f"/v1/jobs/{job_id}/events", timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: "):
                names.append(line.removeprefix("event: "))
                if len(names) == 1:
                    act()  # type: ignore[operator]
                    acted = time.monotonic()
    return names, time.monotonic() - acted


def test_revoking_a_key_ends_its_open_stream(server: Server, world: dict, tmp_path: Path) -> None:
    made = new_key(server, "submitter", "to be revoked")
    client = server.client(key=made["key"])
    job_id = submit(client, render_nameplate(tmp_path / "plate.png"))
    wait_for_status(client, job_id, SETTLED, timeout=120)  # awaiting review: the stream would stay open

    def revoke() -> None:
        assert server.client("admin").delete(f"/v1/keys/{made['id']}").status_code == 204

    names, took = stream_until_closed(client, job_id, revoke)
    assert names[-1] == "revoked" and "finalized" not in names, names
    assert took < 5, f"the stream ended {took:.1f} s after the revocation"
    assert client.get(f"/v1/jobs/{job_id}").status_code == 401
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        assert response.status_code == 401
    # The owner's other streams and other keys are untouched: A still streams its own job.
    assert first_event(world["clients"]["A"], world["jobs"]["A"]) == (200, "queued")


def test_lowering_a_reviewer_to_submitter_ends_its_stream_of_another_job(server: Server, world: dict) -> None:
    made = new_key(server, "reviewer", "tablet to be lowered")
    client = server.client(key=made["key"])
    job_id = world["jobs"]["A"]  # not submitted by this key

    def lower() -> None:  # no API changes a role yet; an admin editing the key table does
        server.sql(f"UPDATE api_keys SET role = 'submitter' WHERE id = '{made['id']}' RETURNING id")

    names, took = stream_until_closed(client, job_id, lower)
    assert names[-1] == "revoked", names
    assert took < 5, f"the stream ended {took:.1f} s after the role change"
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404  # a submitter now: not its job
