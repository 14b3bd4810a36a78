"""Uploaded files by content hash (the reviewer page shows them)."""

from __future__ import annotations

import filetype
from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from app.api.deps import EngineDep, Submitter
from app.auth import Role

router = APIRouter(prefix="/v1/artifacts", tags=["artifacts"])


@router.get("/{sha256}", response_class=FileResponse, responses={404: {"description": "No such artifact"}})
def get_artifact(sha256: str, engine: EngineDep, principal: Submitter) -> FileResponse:
    """The bytes of an uploaded file: reviewers and admins see all; a submitter key only the
    files of jobs it submitted (others answer 404, as if absent)."""
    sha256 = sha256.lower()
    try:
        engine.artifacts.path_for(sha256)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not a sha256 digest") from None
    allowed = principal.role >= Role.reviewer or engine.jobs.key_submitted(principal.key_id, sha256)
    try:
        if not allowed:
            raise FileNotFoundError(sha256)
        path = engine.artifacts.local_path(sha256)
    except FileNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no artifact {sha256}") from None
    guess = filetype.guess(str(path))
    media = guess.mime if guess else "application/octet-stream"
    # nosniff + attachment-free inline: the browser shows images/audio but never runs them as HTML.
    return FileResponse(path, media_type=media, headers={"X-Content-Type-Options": "nosniff",
                                                         "Content-Security-Policy": "default-src 'none'"})
