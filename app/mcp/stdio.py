"""The MCP server over stdio (`jimoku mcp`): an assistant starts it as a subprocess on its machine.

It talks to the running service over HTTP with the key in `JIMOKU_API_KEY`, rather than opening
the database and models in-process: a second engine in every assistant's process would load the
models again, bypass the service's queue, limits and rate limits, and need the data folder; over
REST it is one more client, and its reads and refusals are the API's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from mcp.server import ServerRequestContext
from mcp.server.stdio import stdio_server

from app.mcp.files import LocalPath
from app.mcp.rest import JimokuApi
from app.mcp.server import build_server


async def check_key(url: str, api_key: str) -> dict[str, Any]:
    """`GET /v1/me` with the key: who it is; `ApiError` (401) when it is unknown or revoked, an
    `httpx.HTTPError` when the service cannot be reached."""
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=10) as client:
        return await JimokuApi(client).me()


async def serve(url: str, api_key: str) -> None:
    """Serve MCP on stdin/stdout until the client closes it."""
    # A tool call waits for the tool (OCR of a long PDF, a long recording): no read timeout of ours.
    timeout = httpx.Timeout(None, connect=10)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {api_key}"},
                                 timeout=timeout) as client:
        api = JimokuApi(client)

        @asynccontextmanager
        async def api_for(_: ServerRequestContext[Any]) -> AsyncIterator[JimokuApi]:
            yield api

        server = build_server(LocalPath(), api_for,
                              instructions=f"jimoku at {url}: perception tools (OCR, detection, speech) and "
                                           "questions answered from files, each answer reviewed by a person.")
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
