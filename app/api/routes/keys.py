"""API keys (admin) and who am I (any key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from app.api.deps import Admin, ServiceDep, Submitter
from app.api.models import KeyCreated, KeyIn, Me
from app.auth import Role
from app.errors import Conflict

router = APIRouter(prefix="/v1", tags=["keys"])


@router.get("/me")
def me(principal: Submitter) -> Me:
    """The caller's key: id, name and role."""
    return Me(id=principal.key_id, name=principal.name, role=principal.role_name)


@router.post("/keys", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyIn, service: ServiceDep, _: Admin) -> KeyCreated:
    """Create a key; the response is the only time the key is shown."""
    key_id, key = service.keys.create(Role[body.role], body.name)
    return KeyCreated(id=key_id, name=body.name, role=body.role, key=key)


@router.get("/keys")
def list_keys(service: ServiceDep, _: Admin) -> dict[str, Any]:
    """Keys without their secrets."""
    return {"data": service.keys.list()}


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "No such active key"}, 409: {"description": "The last admin key"}})
def revoke_key(key_id: str, service: ServiceDep, _: Admin) -> None:
    """Revoke a key at once (the last active admin key cannot be: 409)."""
    try:
        revoked = service.keys.revoke(key_id)
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if not revoked:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active key {key_id}")
