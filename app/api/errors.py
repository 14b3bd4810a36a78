"""Exception handlers that turn infrastructure failures into answers a client can act on."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI handler for psycopg's OperationalError (PostgreSQL down or unreachable, the pool
    exhausted): 503 with a reason instead of a bare 500. The request was not carried out."""
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(status_code=503, headers={"Retry-After": "5"}, content={
        "detail": "the database is unreachable; this request was not carried out, try again shortly"})
