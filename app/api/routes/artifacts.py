"""Uploaded files by content hash (the reviewer page shows them)."""

from __future__ import annotations

import filetype
from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from app.api.deps import EngineDep, Submitter

router = APIRouter(prefix="/v1/artifacts", tags=["artifacts"])


@router.get("/{sha256}", response_class=FileResponse, responses={404: {"description": "No such artifact"}})
def get_artifact(sha256: str, engine: EngineDep, _: Submitter) -> FileResponse:
    """The bytes of an uploaded file."""
    try:
        path = engine.artifacts.path_for(sha256.lower())
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not a sha256 digest") from None
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no artifact {sha256}")
    guess = filetype.guess(str(path))
    media = guess.mime if guess else "application/octet-stream"
    # nosniff + attachment-free inline: the browser shows images/audio but never runs them as HTML.
    return FileResponse(path, media_type=media, headers={"X-Content-Type-Options": "nosniff",
                                                         "Content-Security-Policy": "default-src 'none'"})
