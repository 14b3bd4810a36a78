"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import SettingsDep
from tools import models

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(settings: SettingsDep, response: Response) -> dict[str, object]:
    """Every required embedded model is present and verified."""
    states = {
        key: models.status(key, settings.model_dir).state
        for key, m in models.CATALOGUE.items()
        if not m.optional
    }
    ready = all(s == "ok" for s in states.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ready" if ready else "not ready", "models": states}
