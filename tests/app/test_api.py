"""The API over real HTTP: uvicorn on loopback, the real planner and tools, real SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.images import render_nameplate
from tests.fixtures.server import Server, running_server, wait_for_status

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The same suite on both backends: SQLite with in-process workers, and PostgreSQL with a
    `jimoku worker` process (with a data folder of its own) running the jobs."""
    url = request.getfixturevalue("postgres").new_database() if request.param == "postgres" else None
    with running_server(tmp_path_factory.mktemp("api") / "data", database_url=url, workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_nameplate(tmp_path_factory.mktemp("img") / "nameplate.png")


def submit(client: httpx.Client, question: str, *files: Path, **form: str) -> str:
    response = client.post("/v1/jobs", data={"question": question, **form},
                           files=[("files", (f.name, f.read_bytes())) for f in files])
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return response.json()["id"]


def sse_events(client: httpx.Client, job_id: str, stop: str) -> list[tuple[str, dict]]:
    """Read the event stream until the event `stop`."""
    events: list[tuple[str, dict]] = []
    name = None
    with client.stream("GET", f"/v1/jobs/{job_id}/events", timeout=300) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                events.append((name, json.loads(line.removeprefix("data: "))))
                if name == stop:
                    break
    return events


def test_submit_follow_review_and_read_the_answer(server: Server, plate: Path) -> None:
    submitter, reviewer = server.client("submitter"), server.client("reviewer")
    job_id = submit(submitter, "What is the serial number on this plate?", plate)

    events = sse_events(submitter, job_id, stop="awaiting_review")
    names = [n for n, _ in events]
    assert names[0] == "queued" and names[-1] == "awaiting_review"
    assert {"planned", "step_started", "step_finished", "drafted"} <= set(names)
    planned = dict(events)["planned"]
    assert [s["tool"] for s in planned["plan"]] == ["ocr"]

    queue = reviewer.get("/v1/reviews").json()
    item = next(i for i in queue["data"] if i["id"] == job_id)
    assert "AX-4471-B" in item["draft_answer"] and item["flags"] == []

    # A submitter cannot review; the reviewer claims, a second reviewer is turned away.
    assert submitter.post(f"/v1/reviews/{job_id}", json={"decision": "approve"}).status_code == 403
    assert reviewer.post(f"/v1/reviews/{job_id}/claim").status_code == 200
    other = server.client("reviewer2")
    claimed = other.post(f"/v1/reviews/{job_id}/claim")
    assert claimed.status_code == 409 and "claimed by test reviewer" in claimed.json()["detail"]
    assert other.post(f"/v1/reviews/{job_id}", json={"decision": "approve"}).status_code == 409

    decided = reviewer.post(f"/v1/reviews/{job_id}", json={"decision": "approve", "comment": "matches"})
    assert decided.status_code == 200, decided.text
    assert reviewer.post(f"/v1/reviews/{job_id}", json={"decision": "approve"}).status_code == 409

    doc = submitter.get(f"/v1/jobs/{job_id}").json()
    assert doc["status"] == "approved"
    assert "AX-4471-B" in doc["final_answer"]
    assert doc["review"]["reviewer"] == "test reviewer" and doc["review"]["decision"] == "approve"
    assert doc["files"][0]["name"] == "nameplate.png"
    # The uploaded file is served back, byte for byte.
    assert submitter.get(f"/v1/artifacts/{doc['files'][0]['sha256']}").content == plate.read_bytes()
    # The finished job's stream replays and ends.
    assert sse_events(submitter, job_id, stop="finalized")[-1][1]["status"] == "approved"
    listed = submitter.get("/v1/jobs", params={"status": "approved"}).json()
    assert job_id in [j["id"] for j in listed["data"]] and listed["count"] >= 1
    metrics = submitter.get("/metrics").text
    assert 'jimoku_jobs{state="approved"}' in metrics and "jimoku_tool_seconds_bucket" in metrics


def test_edit_and_reject_need_their_text(server: Server, plate: Path) -> None:
    submitter, reviewer = server.client("submitter"), server.client("reviewer")
    job_id = submit(submitter, "Which model is this?", plate)
    wait_for_status(submitter, job_id, {"awaiting_review"})
    assert reviewer.post(f"/v1/reviews/{job_id}", json={"decision": "edit"}).status_code == 422
    assert reviewer.post(f"/v1/reviews/{job_id}", json={"decision": "reject"}).status_code == 422
    assert reviewer.post(f"/v1/reviews/{job_id}", json={"decision": "maybe"}).status_code == 422
    done = reviewer.post(f"/v1/reviews/{job_id}", json={"decision": "edit", "answer": "Model KX-200."})
    assert done.status_code == 200 and done.json()["final_answer"] == "Model KX-200."


@pytest.mark.parametrize(
    ("method", "path", "needs"),
    [
        ("GET", "/v1/jobs", "submitter"),
        ("GET", "/v1/jobs/nope", "submitter"),
        ("GET", "/v1/tools", "submitter"),
        ("GET", "/v1/me", "submitter"),
        ("GET", "/metrics", "submitter"),
        ("GET", "/v1/artifacts/" + "0" * 64, "submitter"),
        ("GET", "/v1/reviews", "reviewer"),
        ("POST", "/v1/reviews/nope/claim", "reviewer"),
        ("GET", "/v1/keys", "admin"),
        ("POST", "/v1/keys", "admin"),
    ],
)
def test_role_checks(server: Server, method: str, path: str, needs: str) -> None:
    order = ["submitter", "reviewer", "admin"]
    body = {"role": "submitter", "name": "x"} if path == "/v1/keys" and method == "POST" else None
    assert server.client().request(method, path, json=body).status_code == 401
    assert server.client(key="jmk_00000000_forged").request(method, path, json=body).status_code == 401
    for role in order:
        status = server.client(role).request(method, path, json=body).status_code
        if order.index(role) < order.index(needs):
            assert status == 403, (role, status)
        else:
            assert status not in (401, 403), (role, status)


def test_health_needs_no_key_and_keys_are_revocable(server: Server) -> None:
    anonymous = server.client()
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    assert anonymous.get("/readyz").json()["status"] == "ready"
    admin = server.client("admin")
    created = admin.post("/v1/keys", json={"role": "reviewer", "name": "tablet"}).json()
    assert server.client(key=created["key"]).get("/v1/me").json()["role"] == "reviewer"
    listed = admin.get("/v1/keys").json()["data"]
    assert all("key" not in k and "hash" not in k for k in listed)
    assert admin.delete(f"/v1/keys/{created['id']}").status_code == 204
    assert server.client(key=created["key"]).get("/v1/me").status_code == 401
    # At first start only the key file's place is printed (stdout is the log); the key never is.
    output = (server.data_dir / "server.log").read_text()
    assert f"First start: an admin API key was created and saved to {server.data_dir / 'admin.key'}" in output
    assert server.keys["admin"] not in output


def test_bad_requests_get_reasons(server: Server, plate: Path, tmp_path: Path) -> None:
    submitter = server.client("submitter")
    text = tmp_path / "photo.jpg"
    text.write_text("not a photo")
    response = submitter.post("/v1/jobs", data={"question": "Serial?"}, files=[("files", ("photo.jpg", text.read_bytes()))])
    assert response.status_code == 400 and "plain text" in response.json()["detail"]
    response = submitter.post("/v1/jobs", data={"question": " "}, files=[("files", ("p.png", plate.read_bytes()))])
    assert response.status_code == 400 and "question is empty" in response.json()["detail"]
    response = submitter.post("/v1/jobs", data={"question": "Serial?"}, files=[("files", ("p.png", b""))])
    assert response.status_code == 400 and "is empty" in response.json()["detail"]
    assert submitter.get("/v1/jobs/doesnotexist").status_code == 404
    # Direct tool calls: unknown tool, wrong kind, bad args.
    assert submitter.post("/v1/tools/nope", files={"file": ("p.png", plate.read_bytes())}).status_code == 404
    wrong = submitter.post("/v1/tools/asr", files={"file": ("p.png", plate.read_bytes())})
    assert wrong.status_code == 415 and "reads audio files" in wrong.json()["detail"]
    ran = submitter.post("/v1/tools/ocr", files={"file": ("p.png", plate.read_bytes())}, data={"args": '{"lang": "eng"}'})
    assert ran.status_code == 200 and "SERIAL NO. AX-4471-B" in ran.json()["result"]["text"]
    assert submitter.post("/v1/tools/ocr", files={"file": ("p.png", plate.read_bytes())},
                          data={"args": '{"lang": "klingon"}'}).status_code == 422
    assert server.client().get("/healthz").status_code == 200  # still up


def test_artifacts_are_visible_to_their_submitter_and_reviewers_only(server: Server, plate: Path) -> None:
    owner = server.client("submitter")
    job_id = submit(owner, "Serial?", plate)
    sha = owner.get(f"/v1/jobs/{job_id}").json()["files"][0]["sha256"]
    other_key = server.client("admin").post("/v1/keys", json={"role": "submitter", "name": "other app"}).json()["key"]
    assert owner.get(f"/v1/artifacts/{sha}").status_code == 200
    assert server.client("reviewer").get(f"/v1/artifacts/{sha}").status_code == 200
    assert server.client(key=other_key).get(f"/v1/artifacts/{sha}").status_code == 404


def test_cors_is_closed_and_keys_are_stored_hashed(server: Server) -> None:
    preflight = server.client().options("/v1/jobs", headers={"Origin": "https://evil.example",
                                                             "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    got = server.client("submitter").get("/v1/me", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in got.headers
    import hashlib

    stored = {r[0] for r in server.sql("SELECT hash FROM api_keys")}
    dumped = repr(server.sql("SELECT * FROM api_keys")).encode()
    for key in server.keys.values():
        assert hashlib.sha256(key.encode()).hexdigest() in stored
        assert key.encode() not in dumped
        if "JIMOKU_DATABASE_URL" not in server.env:
            assert key.encode() not in (server.data_dir / "jimoku.db").read_bytes()


def test_rate_limit_per_key(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", extra_env={"JIMOKU_RATE_LIMIT_PER_MINUTE": "20",
                                                      "JIMOKU_WARM_UP": "false", "JIMOKU_WORKERS": "0"}) as server:
        client = server.client("submitter")
        codes = [client.get("/v1/me").status_code for _ in range(25)]
        assert codes[:20] == [200] * 20 and codes[-1] == 429
        limited = client.get("/v1/me")
        assert int(limited.headers["retry-after"]) >= 1 and "too many requests" in limited.json()["detail"]
        assert server.client("reviewer").get("/v1/me").status_code == 200  # other keys are not affected
