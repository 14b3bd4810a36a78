"""The FastAPI application: wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from app.api.errors import database_unavailable, install_error_codes
from app.api.routes import artifacts, health, jobs, keys, policy, reviews, tools
from app.limits import BodySizeLimit
from app.mcp.http import PATH as MCP_PATH
from app.mcp.http import McpEndpoint
from app.service import Service
from app.settings import get_settings
from app.web import routes as web


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    service = Service.build(get_settings())
    app.state.service = service
    service.start()
    async with mcp_endpoint.running():
        yield
    service.stop()


app = FastAPI(
    title="jimoku",
    version="0.1.0",
    description=(
        "Eyes and ears for a local, text-only LLM. Submit a question with photos, scanned drawings "
        "or voice memos; a planner chooses OCR, detection and speech tools; a reviewer approves, "
        "edits or rejects each answer. Every endpoint but /healthz and /readyz needs "
        "`Authorization: Bearer <key>`."
    ),
    lifespan=lifespan,
    # /docs is served below with Swagger UI's own files (FastAPI's default loads them from a public
    # CDN, a blank page offline); ReDoc has no packaged copy, so it is off.
    docs_url=None,
    redoc_url=None,
)
app.add_exception_handler(psycopg.OperationalError, database_unavailable)
install_error_codes(app)  # every error answer gets a stable `code` (table in app/api/errors.py)
for module in (health, jobs, reviews, tools, artifacts, keys, policy, web):
    app.include_router(module.router)
web.mount_static(app)
# MCP over streamable HTTP (app/mcp/http.py): the same keys and REST routes, for AI assistants.
mcp_endpoint = McpEndpoint(get_settings())
app.router.routes.append(Route(MCP_PATH, mcp_endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False))
app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")


@app.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI for the OpenAPI document, every asset from this server (works offline)."""
    return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
                               swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs-assets/swagger-ui.css",
                               swagger_favicon_url="/docs-assets/favicon-32x32.png")


# The whole request may carry max_files files of max_upload_bytes each, plus the form.
_settings = get_settings()
app.add_middleware(BodySizeLimit, max_bytes=_settings.max_upload_bytes * _settings.max_files + 1_000_000)
