"""The FastAPI application: wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI

from app.api.errors import database_unavailable
from app.api.routes import artifacts, health, jobs, keys, policy, reviews, tools
from app.limits import BodySizeLimit
from app.service import Service
from app.settings import get_settings
from app.web import routes as web


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    service = Service.build(get_settings())
    app.state.service = service
    service.start()
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
)
app.add_exception_handler(psycopg.OperationalError, database_unavailable)
for module in (health, jobs, reviews, tools, artifacts, keys, policy, web):
    app.include_router(module.router)
web.mount_static(app)
# The whole request may carry max_files files of max_upload_bytes each, plus the form.
_settings = get_settings()
app.add_middleware(BodySizeLimit, max_bytes=_settings.max_upload_bytes * _settings.max_files + 1_000_000)
