"""The REST calls behind each MCP tool, made with the caller's API key.

Every MCP tool is one of these calls, so what a key may do, the limits and the reasons a request
is refused are the REST API's (README, "API"); a refusal becomes `ApiError` with the API's own
`detail` and status.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import IO, Any

import httpx

from app.mcp.files import Upload


class ApiError(Exception):
    """The REST API refused the call; `str()` is its reason and status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{detail} (HTTP {status})")
        self.status = status
        self.detail = detail


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return response.text or response.reason_phrase
    if isinstance(detail, list):  # FastAPI's validation errors: say which field and why
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
    return str(detail)


def _part(files: ExitStack, upload: Upload) -> tuple[str, IO[bytes] | bytes]:
    """A multipart file part; a local file is streamed (closed with `files`), not read into memory."""
    return upload.name, files.enter_context(upload.path.open("rb")) if upload.path else (upload.data or b"")


class JimokuApi:
    """jimoku's REST API through one `httpx.AsyncClient` that already carries the key."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response.json()

    async def me(self) -> dict[str, Any]:
        """Who the key is: `{id, name, role}`."""
        return await self._json(await self.client.get("/v1/me"))

    async def tools(self) -> list[dict[str, Any]]:
        """The service's tool cards (`GET /v1/tools`)."""
        return (await self._json(await self.client.get("/v1/tools")))["data"]

    async def run_tool(self, name: str, upload: Upload, args: dict[str, Any]) -> dict[str, Any]:
        """One file through one tool (`POST /v1/tools/{name}`): the `ToolRun`."""
        with ExitStack() as files:
            response = await self.client.post(f"/v1/tools/{name}", files={"file": _part(files, upload)},
                                              data={"args": json.dumps(args)})
        return await self._json(response)

    async def submit(self, question: str, uploads: list[Upload], auto_approve: bool) -> dict[str, Any]:
        """A question with files (`POST /v1/jobs`): `{id, status}`."""
        with ExitStack() as files:
            parts = [("files", _part(files, u)) for u in uploads]
            response = await self.client.post("/v1/jobs", files=parts,
                                              data={"question": question, "auto_approve": str(auto_approve).lower()})
        return await self._json(response)

    async def job(self, job_id: str) -> dict[str, Any]:
        """The job document this key may read (`GET /v1/jobs/{id}`)."""
        return await self._json(await self.client.get(f"/v1/jobs/{job_id}"))

    async def reviews(self, limit: int) -> dict[str, Any]:
        """The review queue (`GET /v1/reviews`): reviewer keys only, as in REST."""
        return await self._json(await self.client.get("/v1/reviews", params={"limit": limit}))
