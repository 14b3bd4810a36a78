"""jimoku's MCP server, driven by the MCP SDK's own client against the real service (uvicorn, SQLite,
real OCR; the scripted planner drafts): over streamable HTTP at /mcp, and over stdio through
`jimoku mcp` started as a subprocess, as an assistant starts it.

Each transport: the registered tools are listed (and `reviews` only for a reviewer key), `ocr` reads
the rendered plate exactly, `ask` makes a job that `job` follows to `awaiting_review`, a submitter
cannot read the review queue, no tool decides a review, a missing or wrong key is refused, and an
oversized, corrupt or malformed file is refused with the REST API's reason.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.fixtures.images import NAMEPLATE_LINES, render_nameplate
from tests.fixtures.server import Server, running_server
from tests.fixtures.timed_planner import SCRIPTED_ENV

pytestmark = pytest.mark.slow

LIMIT = 1_000_000
"""JIMOKU_MAX_UPLOAD_BYTES of the test service: small, so that an oversized file is cheap to make."""
SESSION = Callable[[ClientSession], Awaitable[Any]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {**SCRIPTED_ENV, "JIMOKU_TEST_DRAFT": "The serial number is AX-4471-B [s1].",
           "JIMOKU_MAX_UPLOAD_BYTES": str(LIMIT)}
    with running_server(tmp_path_factory.mktemp("mcp") / "data", extra_env=env) as server:
        yield server


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_nameplate(tmp_path_factory.mktemp("plate") / "nameplate.png")


def over_http(server: Server, key: str | None, body: SESSION) -> Any:
    """Run `body` in an initialised MCP session over streamable HTTP with `key`."""

    async def main() -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx2.AsyncClient(headers=headers, timeout=120) as http, \
                streamable_http_client(f"{server.url}/mcp", http_client=http) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    return anyio.run(main)


@asynccontextmanager
async def stdio_session(server: Server, key: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "app", "mcp"],
                                   env={**server.env, "JIMOKU_URL": server.url, "JIMOKU_API_KEY": key})
    with (server.data_dir / "mcp-stdio.log").open("a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


def over_stdio(server: Server, key: str, body: SESSION) -> Any:
    async def main() -> Any:
        async with stdio_session(server, key) as session:
            return await body(session)

    return anyio.run(main)


def as_http_file(path: Path, data: bytes | None = None) -> dict[str, str]:
    return {"name": path.name, "content_base64": base64.b64encode(data or path.read_bytes()).decode()}


async def until_awaiting_review(session: ClientSession, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        result = await session.call_tool("job", {"id": job_id})
        assert not result.is_error, result.content
        doc = result.structured_content
        assert doc is not None and doc["status"] not in {"failed", "approved", "rejected"}, doc
        if doc["status"] == "awaiting_review":
            return doc
        assert time.monotonic() < deadline, f"job {job_id} still {doc['status']}"
        await anyio.sleep(0.3)


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


# --- streamable HTTP at /mcp -------------------------------------------------------------------------


def test_http_lists_the_registered_tools_and_the_queue_only_for_reviewers(server: Server) -> None:
    async def names(session: ClientSession) -> dict[str, Any]:
        return {t.name: t for t in (await session.list_tools()).tools}

    registered = {t["name"] for t in server.client("submitter").get("/v1/tools").json()["data"]}
    submitter = over_http(server, server.keys["submitter"], names)
    reviewer = over_http(server, server.keys["reviewer"], names)
    assert registered >= {"ocr", "detect", "asr"}
    assert set(submitter) == registered | {"ask", "job"}
    assert set(reviewer) == registered | {"ask", "job", "reviews"}
    # The tool's own arguments from its registry card, plus the file as base64 with its name.
    ocr = submitter["ocr"].input_schema
    assert ocr["required"][0] == "file" and "lang" in ocr["properties"]
    assert ocr["properties"]["file"]["required"] == ["name", "content_base64"]
    # Nothing an MCP client can call decides a review.
    assert not {n for n in reviewer if any(w in n for w in ("approve", "decide", "review_", "reject", "edit"))}


def test_http_ocr_reads_the_plate_exactly(server: Server, plate: Path) -> None:
    async def ocr(session: ClientSession) -> Any:
        return await session.call_tool("ocr", {"file": as_http_file(plate), "lang": "eng"})

    result = over_http(server, server.keys["submitter"], ocr)
    assert not result.is_error, text_of(result)
    run = result.structured_content
    assert run["tool"] == "ocr" and run["ok"] is True
    assert run["result"]["text"].splitlines() == list(NAMEPLATE_LINES)
    assert "AX-4471-B" in text_of(result)


def test_http_ask_reaches_awaiting_review_and_only_a_reviewer_sees_the_queue(server: Server, plate: Path) -> None:
    async def ask(session: ClientSession) -> tuple[dict[str, Any], dict[str, Any], str]:
        created = await session.call_tool("ask", {"question": "What is the serial number on this plate?",
                                                  "files": [as_http_file(plate)]})
        assert not created.is_error, text_of(created)
        assert created.structured_content["status"] == "queued"
        doc = await until_awaiting_review(session, created.structured_content["id"])
        refused = await session.call_tool("reviews", {})  # not listed for a submitter, and refused
        assert refused.is_error
        return created.structured_content, doc, text_of(refused)

    created, doc, refused = over_http(server, server.keys["submitter"], ask)
    assert doc["draft_answer"] == "The serial number is AX-4471-B [s1]." and doc["final_answer"] is None
    assert [s["tool"] for s in doc["steps"]] == ["ocr"]
    assert "needs the reviewer role" in refused and "HTTP 403" in refused

    async def queue(session: ClientSession) -> dict[str, Any]:
        result = await session.call_tool("reviews", {})
        assert not result.is_error, text_of(result)
        return result.structured_content

    listed = over_http(server, server.keys["reviewer"], queue)
    assert created["id"] in [item["id"] for item in listed["data"]]
    # Reading the queue decided nothing: the job still waits for a person.
    assert server.client("submitter").get(f"/v1/jobs/{created['id']}").json()["status"] == "awaiting_review"


def test_http_refuses_a_missing_or_unknown_key(server: Server) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    missing = httpx.post(f"{server.url}/mcp", json=hello, headers=headers)
    wrong = httpx.post(f"{server.url}/mcp", json=hello, headers={**headers, "Authorization": "Bearer jmk_not-a-key"})
    assert missing.status_code == 401 and "send an API key" in missing.json()["detail"]
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.json()["detail"]
    # The SDK's own client cannot even initialise (it reports the 401 as an MCP error response).
    with pytest.raises(BaseException, match="unhandled errors") as refused:
        over_http(server, "jmk_not-a-key", lambda s: s.list_tools())
    assert "Server returned an error response" in repr(refused.value)


def test_http_bad_files_get_the_rest_reason(server: Server, plate: Path, tmp_path: Path) -> None:
    big = plate.read_bytes() + b"\0" * LIMIT  # a real PNG, too large

    async def calls(session: ClientSession) -> list[Any]:
        return [
            await session.call_tool("ocr", {"file": as_http_file(plate, big)}),
            await session.call_tool("ocr", {"file": as_http_file(plate, b"\x89PNG\r\n\x1a\n this is not a picture")}),
            await session.call_tool("ocr", {"file": {"name": "p.png", "content_base64": "***"}}),
            await session.call_tool("ask", {"question": "   ", "files": [as_http_file(plate)]}),
            await session.call_tool("job", {"id": "no-such-job"}),
        ]

    oversized, corrupt, not_base64, empty_question, unknown = over_http(server, server.keys["submitter"], calls)
    assert all(r.is_error for r in (oversized, corrupt, not_base64, empty_question, unknown))
    assert "over the 1 MB limit" in text_of(oversized) and "HTTP 413" in text_of(oversized)
    assert "p.png" not in text_of(corrupt) and "nameplate.png" in text_of(corrupt)  # names the file sent
    assert "HTTP 415" in text_of(corrupt) or "HTTP 422" in text_of(corrupt)
    assert "not valid base64" in text_of(not_base64)
    assert "the question is empty" in text_of(empty_question) and "HTTP 400" in text_of(empty_question)
    assert "no job no-such-job" in text_of(unknown) and "HTTP 404" in text_of(unknown)
    assert server.client().get("/healthz").status_code == 200


# --- stdio: `jimoku mcp` -------------------------------------------------------------------------------


def test_stdio_reads_the_plate_and_follows_a_job(server: Server, plate: Path) -> None:
    async def body(session: ClientSession) -> tuple[set[str], Any, dict[str, Any], Any]:
        names = {t.name for t in (await session.list_tools()).tools}
        ocr = await session.call_tool("ocr", {"file": str(plate), "lang": "eng"})
        created = await session.call_tool("ask", {"question": "What is the serial number?", "files": [str(plate)]})
        assert not created.is_error, text_of(created)
        doc = await until_awaiting_review(session, created.structured_content["id"])
        missing = await session.call_tool("ocr", {"file": str(plate.parent / "nowhere.png")})
        return names, ocr, doc, missing

    names, ocr, doc, missing = over_stdio(server, server.keys["submitter"], body)
    assert {"ocr", "detect", "asr", "ask", "job"} <= names and "reviews" not in names
    assert not ocr.is_error and ocr.structured_content["result"]["text"].splitlines() == list(NAMEPLATE_LINES)
    assert doc["status"] == "awaiting_review" and doc["files"][0]["name"] == "nameplate.png"
    assert missing.is_error and "no file at" in text_of(missing)


def test_stdio_refuses_to_start_without_a_valid_key(server: Server) -> None:
    def start(**env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in server.env.items() if k != "JIMOKU_API_KEY"}
        return subprocess.run([sys.executable, "-m", "app", "mcp"], env={**base, "JIMOKU_URL": server.url, **env},
                              input="", capture_output=True, text=True, timeout=60)

    missing, wrong = start(), start(JIMOKU_API_KEY="jmk_not-a-key")
    assert missing.returncode == 2 and "set JIMOKU_API_KEY" in missing.stderr
    assert wrong.returncode == 2 and "refused the key" in wrong.stderr and "unknown or revoked" in wrong.stderr
    assert missing.stdout == wrong.stdout == ""  # stdout is the MCP wire: nothing but protocol goes there
