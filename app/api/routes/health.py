"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import ServiceDep, Submitter
from app.service import Service
from tools import models

router = APIRouter(tags=["health"])


# Both are `async def` and never use the request thread pool that tool calls and uploads fill
# (issue 18: 45 concurrent ASR calls delayed /healthz by 16 s): /healthz runs on the event loop,
# /readyz's blocking checks on the loop's own executor.
@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no key needed)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(service: ServiceDep, response: Response) -> dict[str, Any]:
    """Models verified and loaded, the database answering (no key needed); 503 until then."""
    return await asyncio.get_running_loop().run_in_executor(None, _readiness, service, response)


def _readiness(service: Service, response: Response) -> dict[str, Any]:
    states = {
        key: models.status(key, service.settings.model_dir).state
        for key, m in models.CATALOGUE.items()
        if not m.optional
    }
    try:  # with PostgreSQL on another machine, the database can be the part that is down
        service.engine.db.one("SELECT 1")
        database = "ok"
    except Exception as exc:
        database = f"unreachable: {type(exc).__name__}"
    ready = service.ready.is_set() and all(s == "ok" for s in states.values()) and database == "ok"
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ready" if ready else "starting", "models": states, "database": database,
            "warm_up": service.warm_up_report}


@router.get("/metrics", response_class=Response)
def metrics(service: ServiceDep, _: Submitter) -> Response:
    """Prometheus metrics: jobs by state, queue lengths, tool latency, review turnaround."""
    service.metrics.refresh()
    return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)
