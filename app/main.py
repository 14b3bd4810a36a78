"""The FastAPI application: wiring only."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.routes import health, tools

app = FastAPI(
    title="jimoku",
    version="0.1.0",
    description="Eyes and ears for a local, text-only LLM: OCR, detection and speech tools.",
)
app.include_router(health.router)
app.include_router(tools.router)
