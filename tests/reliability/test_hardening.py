"""Issue 18, through the real API on both backends (SQLite with in-process workers; PostgreSQL
with a `jimoku worker`), the scripted planner drafting an answer grounded in the plate:

1. auto-approval is earned: a job's own `auto_approve=true` counts only for the case kinds the
   admin's policy lists (none by default); a draft that does not state a value of the field
   asked for is flagged `wrong_field` and never approved by rule; a single-valued form field
   given twice is a 400;
3. the form is bounded while it is parsed: too many text fields (400), one over 64 kB (413),
   too many files (400);
5. claims and decisions belong to key ids: two keys named alike do not share a claim; a key
   holds at most `JIMOKU_MAX_OPEN_CLAIMS`; a revoked reviewer's claim is released at once; an
   admin releases any claim; the decision records the key id;
6. secrets and permissions: the admin key is never printed (only its file's path), a key in a
   query string is not logged, the data folder is 0700 and its files 0600, the last admin key
   cannot be revoked, and "first start" is never said again;
7. review-policy patterns are validated on write (422 with the reason);
8. the smaller ones: `/events` of an unknown job 404, bounded paging (422), errors naming the
   uploaded file, a decided job showing its final (edited) answer.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.audio import write_garbage_flac
from tests.fixtures.images import render_nameplate
from tests.fixtures.server import Server, backend_server, start_server, stop, wait_for_status
from tests.fixtures.timed_planner import SCRIPTED_ENV

pytestmark = pytest.mark.slow

SCRIPTED = {**SCRIPTED_ENV, "JIMOKU_TEST_DRAFT": "The serial number is AX-4471-B [s1].",
            "JIMOKU_MAX_OPEN_CLAIMS": "2"}
SETTLED = {"awaiting_review", "approved", "rejected", "failed"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with backend_server(request, tmp_path_factory, "hardening", SCRIPTED) as server:
        yield server
        assert server.client().get("/healthz").status_code == 200  # the probes never took it down
        assert server.client().get("/healthz").status_code == 200


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_nameplate(tmp_path_factory.mktemp("plate") / "p.png")


def submit(client: httpx.Client, plate: Path, **form: str) -> str:
    response = client.post("/v1/jobs", data={"question": "What is the serial number?", **form},
                           files=[("files", (plate.name, plate.read_bytes()))])
    assert response.status_code == 202, response.text
    return response.json()["id"]


def settled(client: httpx.Client, plate: Path, **form: str) -> dict:
    return wait_for_status(client, submit(client, plate, **form), SETTLED, timeout=120)


def put_policy(server: Server, **policy: object) -> httpx.Response:
    # These clients predate fingerprints: a whole new policy keeps allowing decisions without one.
    return server.client("admin").put("/v1/policy", json={"require_fingerprint": False, **policy},
                                      params={"reason": "test"})


def new_key(server: Server, role: str, name: str) -> dict:
    made = server.client("admin").post("/v1/keys", json={"role": role, "name": name})
    assert made.status_code == 201, made.text
    return made.json()


# --- 1. auto-approval earned ---------------------------------------------------------------------


def test_a_jobs_auto_approve_counts_only_where_the_policy_allows_it(server: Server, plate: Path) -> None:
    submitter = server.client("submitter")
    try:
        assert put_policy(server, audit_rate=0.0).status_code == 200  # the default, without audits
        doc = settled(submitter, plate, auto_approve="true")
        assert doc["status"] == "awaiting_review" and doc["flags"] == [], doc
        assert doc["routing"]["reasons"] == ["the job asked for auto-approval; the policy does not allow it for ocr"]
        assert put_policy(server, audit_rate=0.0, auto_approve_case_kinds=["asr"]).status_code == 200
        assert settled(submitter, plate, auto_approve="true")["status"] == "awaiting_review"
        assert put_policy(server, audit_rate=0.0, auto_approve_case_kinds=["ocr"]).status_code == 200
        doc = settled(submitter, plate, auto_approve="true")
        assert doc["status"] == "approved" and doc["review"]["decision"] == "auto_approve", doc
        assert doc["routing"]["reasons"] == ["the job asked for auto-approval, allowed for ocr"]
        assert settled(submitter, plate)["status"] == "awaiting_review"  # not asked: a person
        off = put_policy(server, audit_rate=0.0, auto_approve_case_kinds=["ocr"], honour_job_auto_approve=False)
        assert off.status_code == 200
        assert settled(submitter, plate, auto_approve="true")["status"] == "awaiting_review"  # master switch
    finally:
        assert put_policy(server).status_code == 200


def test_a_draft_that_misses_the_asked_field_is_never_approved_by_rule(server: Server, plate: Path) -> None:
    # The scripted draft gives the serial; asked for the model or the voltage (which the plate
    # labels KX-200 and 200V), it answers the wrong field: flagged, to a person, whatever the policy.
    submitter = server.client("submitter")
    try:
        assert put_policy(server, audit_rate=0.0, auto_approve_case_kinds=["*"]).status_code == 200
        for question, field in [("What is the model number?", "model"), ("What voltage does it need?", "voltage")]:
            doc = settled(submitter, plate, auto_approve="true", question=question)
            assert doc["status"] == "awaiting_review", doc
            assert [f["kind"] for f in doc["flags"]] == ["wrong_field"], doc["flags"]
            assert f"asks for the {field}" in doc["flags"][0]["message"]
            assert doc["routing"]["reasons"][0] == "1 flag(s): wrong_field"
        assert settled(submitter, plate, auto_approve="true")["status"] == "approved"  # the serial, asked
    finally:
        assert put_policy(server).status_code == 200


def test_a_single_valued_field_given_twice_is_refused(server: Server, plate: Path) -> None:
    client = server.client("submitter")
    files = [("files", (plate.name, plate.read_bytes()))]
    twice = client.post("/v1/jobs", data={"question": "Serial?", "auto_approve": ["false", "true"]}, files=files)
    assert twice.status_code == 400
    assert twice.json()["detail"] == "the field 'auto_approve' was sent 2 times; send it once"
    two_questions = client.post("/v1/jobs", data={"question": ["Serial?", "Model?"]}, files=files)
    assert two_questions.status_code == 400 and "'question' was sent 2 times" in two_questions.json()["detail"]
    args = client.post("/v1/tools/ocr", data={"args": ["{}", '{"lang": "jpn"}']}, files={"file": (plate.name, plate.read_bytes())})
    assert args.status_code == 400 and "'args' was sent 2 times" in args.json()["detail"]


# --- 3. bounded request body ---------------------------------------------------------------------


def test_form_fields_are_bounded_while_parsed(server: Server, plate: Path) -> None:
    client = server.client("submitter")
    files = [("files", (plate.name, plate.read_bytes()))]
    many = client.post("/v1/jobs", data={"question": "Serial?", **{f"x{i}": "1" for i in range(20)}}, files=files)
    assert many.status_code == 400 and many.json()["detail"] == "too many form fields; the limit is 16"
    big = client.post("/v1/jobs", data={"question": "Serial?", "note": "x" * 100_000}, files=files)
    assert big.status_code == 413 and "a form field is over the 64 kB limit" in big.json()["detail"]
    long_question = client.post("/v1/jobs", data={"question": "x" * 70_000}, files=files)
    assert long_question.status_code == 413, long_question.text
    assert client.post("/v1/jobs", data={"question": "x" * 5_000}, files=files).json()["detail"] == (
        "the question is 5000 characters; the limit is 4000")
    eleven = client.post("/v1/jobs", data={"question": "Serial?"}, files=files * 11)
    assert eleven.status_code == 400 and "the limit is 10" in eleven.json()["detail"]
    tool = client.post("/v1/tools/ocr", data={"args": "{" + " " * 70_000 + "}"}, files={"file": (plate.name, plate.read_bytes())})
    assert tool.status_code == 413
    # The field bomb of the probe, scaled down: 1 MB text fields are refused at the first one.
    bomb = client.post("/v1/jobs", data={"question": "Serial?", **{f"f{i}": "y" * 1_000_000 for i in range(3)}},
                       files=files)
    assert bomb.status_code == 413
    assert client.get("/v1/me").status_code == 200


# --- 5. claims and decisions by key id ----------------------------------------------------------


def test_claims_and_decisions_belong_to_key_ids(server: Server, plate: Path) -> None:
    submitter = server.client("submitter")
    jobs = [submit(submitter, plate) for _ in range(3)]
    for job_id in jobs:
        assert wait_for_status(submitter, job_id, SETTLED, timeout=120)["status"] == "awaiting_review"
    first, second = new_key(server, "reviewer", "R1"), new_key(server, "reviewer", "R1")  # the same name
    r1a, r1b = server.client(key=first["key"]), server.client(key=second["key"])
    other = server.client(key=new_key(server, "reviewer", "R3")["key"])
    admin = server.client("admin")

    held = r1a.post(f"/v1/reviews/{jobs[0]}/claim")
    assert held.status_code == 200 and held.json()["claimed_by"] == "R1"
    taken = r1b.post(f"/v1/reviews/{jobs[0]}/claim")
    assert taken.status_code == 409 and f"claimed by R1 (key {first['id']})" in taken.json()["detail"]
    assert r1b.post(f"/v1/reviews/{jobs[0]}", json={"decision": "reject", "comment": "x"}).status_code == 409

    # At most JIMOKU_MAX_OPEN_CLAIMS (2 here) open claims per key; renewing one is not another.
    assert r1a.post(f"/v1/reviews/{jobs[1]}/claim").status_code == 200
    third = r1a.post(f"/v1/reviews/{jobs[2]}/claim")
    assert third.status_code == 409 and "already holds 2 open review claims" in third.json()["detail"]
    assert r1a.post(f"/v1/reviews/{jobs[0]}/claim").status_code == 200

    # Revoking the reviewer releases its claims at once.
    assert admin.delete(f"/v1/keys/{first['id']}").status_code == 204
    assert r1b.post(f"/v1/reviews/{jobs[0]}/claim").status_code == 200
    assert other.post(f"/v1/reviews/{jobs[1]}/claim").status_code == 200

    # Another reviewer cannot release a claim; its holder and an admin can.
    refused = r1b.delete(f"/v1/reviews/{jobs[1]}/claim")
    assert refused.status_code == 409 and "only they or an admin" in refused.json()["detail"]
    assert admin.delete(f"/v1/reviews/{jobs[1]}/claim").status_code == 204
    assert admin.delete(f"/v1/reviews/{jobs[1]}/claim").status_code == 404
    assert r1b.post(f"/v1/reviews/{jobs[1]}/claim").status_code == 200
    assert r1b.delete(f"/v1/reviews/{jobs[1]}/claim").status_code == 204
    assert admin.delete(f"/v1/reviews/{'0' * 16}/claim").status_code == 404

    # The decision is recorded with the key id; the record shows the name.
    decided = r1b.post(f"/v1/reviews/{jobs[0]}", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["review"]["reviewer"] == "R1"
    assert server.sql(f"SELECT reviewer_key FROM decisions WHERE job_id = '{jobs[0]}'") == [(second["id"],)]


# --- 6. secrets and permissions -----------------------------------------------------------------


def test_the_admin_key_is_never_printed_and_files_are_private(server: Server) -> None:
    log = (server.data_dir / "server.log").read_text()
    assert f"First start: an admin API key was created and saved to {server.data_dir / 'admin.key'}" in log
    assert server.keys["admin"] not in log
    # A key sent in the query string is refused, and not written to the access log.
    key = server.keys["submitter"]
    assert server.client().get("/v1/me", params={"api_key": key}).status_code == 401
    assert server.client().get(f"/v1/jobs?limit=1&k={key}").status_code == 401
    log = (server.data_dir / "server.log").read_text()
    assert key not in log and key.split("_", 2)[2] not in log
    assert '"GET /v1/me?api_key=[redacted] HTTP/1.1" 401' in log

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(server.data_dir) == 0o700
    assert mode(server.data_dir / "admin.key") == 0o600
    if "JIMOKU_DATABASE_URL" not in server.env:
        assert mode(server.data_dir / "jimoku.db") == 0o600
    stored = [p for p in (server.data_dir / "artifacts").rglob("*")]
    assert any(p.is_file() for p in stored)
    assert all(mode(p) == (0o700 if p.is_dir() else 0o600) for p in stored), [(p, oct(mode(p))) for p in stored]


def test_the_last_admin_key_cannot_be_revoked(server: Server) -> None:
    admin = server.client("admin")
    me = admin.get("/v1/me").json()
    last = admin.delete(f"/v1/keys/{me['id']}")
    assert last.status_code == 409 and "last active admin key" in last.json()["detail"]
    cli = subprocess.run([sys.executable, "-m", "app", "keys", "revoke", me["id"]], env=server.env,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1 and "last active admin key" in cli.stderr
    spare = new_key(server, "admin", "spare admin")
    assert admin.delete(f"/v1/keys/{spare['id']}").status_code == 204  # another admin was left
    assert admin.get("/v1/me").status_code == 200


def test_first_start_is_said_once(tmp_path: Path, database_url: str | None) -> None:
    env = {"JIMOKU_WORKERS": "0", "JIMOKU_WARM_UP": "false"}
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    first = start_server(data, extra_env=env, database_url=database_url)
    keys = dict(first.keys)
    stop(first.proc)
    # Every admin key revoked behind the API's back: the next start makes no new key and says so.
    first.sql("UPDATE api_keys SET revoked_at = '2026-01-01T00:00:00' WHERE role = 'admin' RETURNING id")
    again = start_server(data, extra_env=env, database_url=database_url, keys=keys)
    stop(again.proc)
    log = (data / "server.log").read_text()
    assert log.count("First start") == 1
    assert "no admin key is active" in log
    assert (data / "admin.key").read_text().strip() == keys["admin"]
    assert keys["admin"] not in log


# --- 7. policies validated ----------------------------------------------------------------------


def test_policy_patterns_are_validated_on_write(server: Server, plate: Path) -> None:
    before = server.client("admin").get("/v1/policy").json()["version"]
    broken = put_policy(server, always_review_questions=["serial("])
    assert broken.status_code == 422
    assert broken.json()["detail"] == "pattern 'serial(' is not a valid regular expression: missing ) at position 7"
    catastrophic = put_policy(server, always_review_questions=["(a+)+$"])
    assert catastrophic.status_code == 422 and "catastrophic backtracking" in catastrophic.json()["detail"]
    assert server.client("admin").get("/v1/policy").json()["version"] == before  # nothing stored
    try:
        assert put_policy(server, always_review_questions=[r"\bserial\b"], audit_rate=0.0,
                          auto_approve_case_kinds=["ocr"]).status_code == 200
        doc = settled(server.client("submitter"), plate, auto_approve="true")
        assert doc["status"] == "awaiting_review"
        assert "question matches '\\\\bserial\\\\b'" in doc["routing"]["reasons"]
    finally:
        assert put_policy(server).status_code == 200


# --- 8. smaller ones ----------------------------------------------------------------------------


def test_unknown_streams_and_bad_paging(server: Server) -> None:
    client, reviewer = server.client("submitter"), server.client("reviewer")
    absent = "0" * 16
    with client.stream("GET", f"/v1/jobs/{absent}/events") as response:
        response.read()
        assert response.status_code == 404 and response.json()["detail"] == f"no job {absent}"
    for params in ({"offset": 2**63}, {"offset": -1}, {"limit": 0}, {"limit": 501}):
        assert client.get("/v1/jobs", params=params).status_code == 422, params
    for params in ({"limit": -1}, {"limit": 0}, {"limit": 100_000}):
        assert reviewer.get("/v1/reviews", params=params).status_code == 422, params
    assert len(reviewer.get("/v1/reviews", params={"limit": 1}).json()["data"]) <= 1


def test_errors_name_the_uploaded_file(server: Server, tmp_path: Path) -> None:
    garbage = write_garbage_flac(tmp_path / "g.flac").read_bytes()
    client = server.client("submitter")
    refused = client.post("/v1/jobs", data={"question": "What does the memo say?"},
                          files=[("files", ("shift-memo.flac", garbage))])
    assert refused.status_code == 400
    detail = refused.json()["detail"]
    assert "'shift-memo.flac'" in detail and "upload-" not in detail and "/tmp" not in detail, detail
    tool = client.post("/v1/tools/asr", files={"file": ("shift-memo.flac", garbage)})
    assert tool.status_code in (415, 422) and "upload-" not in tool.json()["detail"], tool.text


def test_a_decided_job_shows_its_final_answer(server: Server, plate: Path) -> None:
    submitter = server.client("submitter")
    job_id = submit(submitter, plate)
    wait_for_status(submitter, job_id, {"awaiting_review"}, timeout=120)
    edited = server.client("reviewer").post(f"/v1/reviews/{job_id}", json={"decision": "edit",
                                                                          "answer": "Serial AX-4471-B, checked."})
    assert edited.status_code == 200, edited.text
    doc = submitter.get(f"/v1/jobs/{job_id}").json()
    assert doc["final_answer"] == "Serial AX-4471-B, checked." != doc["draft_answer"]
    # The reviewer page fills its answer box from final_answer once a job is decided.
    script = server.client().get("/static/review/job.js").text
    assert 'job.status === "awaiting_review" ? pending : job.final_answer ?? job.draft_answer' in script


def test_docs_are_served_from_this_server(server: Server) -> None:
    import re

    client = server.client()
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs-assets/") for a in assets), assets
    assert "https://" not in page.text and "http://" not in page.text
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 500, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "jimoku"
