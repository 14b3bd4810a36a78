"""Every dependency a route can declare, in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import Principal, Role
from app.engine import Engine
from app.service import Service
from app.settings import Settings, get_settings
from tools.context import ToolContext
from tools.registry import Registry

SettingsDep = Annotated[Settings, Depends(get_settings)]
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer jmk_…`")


def get_service(request: Request) -> Service:
    """The running service (built in the app's lifespan)."""
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_engine(service: ServiceDep) -> Engine:
    """The job engine."""
    return service.engine


def get_registry(service: ServiceDep) -> Registry:
    """The tool registry."""
    return service.engine.registry


def get_tool_context(service: ServiceDep) -> ToolContext:
    """The context every tool call gets."""
    return service.engine.tool_ctx


EngineDep = Annotated[Engine, Depends(get_engine)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
ToolContextDep = Annotated[ToolContext, Depends(get_tool_context)]


def current_principal(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from `Authorization: Bearer <key>`; 401 without a valid key."""
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "send an API key: Authorization: Bearer <key>",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = service.keys.verify(credentials.credentials)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this API key is unknown or revoked",
                            headers={"WWW-Authenticate": "Bearer"})
    wait = service.rate_limiter.allow(principal.key_id)
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"too many requests for this key; try again in {wait:.1f} s",
                            headers={"Retry-After": str(max(1, round(wait)))})
    return principal


def require(role: Role):
    """A dependency admitting `role` and the roles above it; 403 for the others."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role < role:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"this needs the {role.name} role; your key has {principal.role.name}")
        return principal

    return check


Submitter = Annotated[Principal, Depends(require(Role.submitter))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
