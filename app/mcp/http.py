"""The MCP server over streamable HTTP, mounted in the service at `/mcp`.

The endpoint admits only a valid API key (`Authorization: Bearer …`, 401 otherwise, as REST does);
each tool call then goes to the REST routes of this same FastAPI app in-process (httpx's ASGI
transport) with the caller's key, so roles, ownership, limits and validation are REST's.

Stateless JSON mode: no MCP session lives in one API process, so behind a load balancer any
API answers any call (several APIs share one PostgreSQL, see README "Running on several machines").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from mcp.server import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app.mcp.files import Base64Content
from app.mcp.rest import JimokuApi
from app.mcp.server import build_server
from app.settings import Settings

PATH = "/mcp"


@asynccontextmanager
async def _in_process_api(ctx: ServerRequestContext[Any]) -> AsyncIterator[JimokuApi]:
    """REST on this very app, with the key the MCP request came with."""
    request = ctx.request
    if request is None:  # the streamable-HTTP transport attaches every message's HTTP request
        raise RuntimeError("an MCP call over HTTP came without its request")
    transport = httpx.ASGITransport(app=request.app, raise_app_exceptions=False)
    headers = {"Authorization": request.headers.get("authorization", "")}
    async with httpx.AsyncClient(transport=transport, base_url="http://jimoku.internal", headers=headers,
                                 timeout=None) as client:
        yield JimokuApi(client)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class McpEndpoint:
    """The ASGI app at `/mcp`: checks the key, then hands the request to the SDK's session manager,
    which runs only inside `running()` (the service's lifespan)."""

    def __init__(self, settings: Settings) -> None:
        self.server = build_server(Base64Content(), _in_process_api)
        # The same bound as the whole REST request (app.main's BodySizeLimit), base64 included.
        self.max_body = settings.max_upload_bytes * settings.max_files + 1_000_000
        self.manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve MCP while the service runs (a session manager runs once, so a new one each start)."""
        self.manager = StreamableHTTPSessionManager(
            app=self.server, json_response=True, stateless=True, max_request_body_size=self.max_body,
            # DNS-rebinding protection guards servers that trust whoever can reach them; this one
            # asks every request for an API key a rebinding page cannot have, and must answer to
            # whatever host name a factory gives it.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        try:
            async with self.manager.run():
                yield
        finally:
            self.manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _bearer(scope)
        service = scope["app"].state.service
        principal = await run_in_threadpool(service.keys.verify, token) if token else None
        if principal is None:
            detail = "this API key is unknown or revoked" if token else "send an API key: Authorization: Bearer <key>"
            await JSONResponse({"detail": detail}, status_code=401,
                               headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        if self.manager is None:
            await JSONResponse({"detail": "the service is starting or stopping; try again"},
                               status_code=503)(scope, receive, send)
            return
        await self.manager.asgi_app(scope, receive, send)
