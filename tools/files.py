"""Tell what kind of file an upload is from its content, never from its name or MIME."""

from __future__ import annotations

from pathlib import Path

import filetype

from tools.errors import ToolInputError
from tools.registry import FileKind

# What we say we accept, for error messages a person reads.
ACCEPTED = "images (JPEG, PNG, WebP, TIFF, BMP, GIF), PDF documents, audio (WAV, MP3, M4A, OGG/Opus, FLAC)"

_AUDIO_EXTRA_MIMES = {"video/mp4", "video/webm", "video/x-matroska"}  # m4a/webm audio sniff as video


def sniff_kind(path: Path) -> FileKind:
    """The `FileKind` of `path`, or `ToolInputError` saying why it is not usable."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ToolInputError(f"file {path.name!r} does not exist") from None
    if size == 0:
        raise ToolInputError(f"file {path.name!r} is empty (0 bytes); send the file again")
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.lstrip()[:5] == b"%PDF-":
        return FileKind.DOCUMENT
    guess = filetype.guess(head)
    if guess is not None:
        mime = guess.mime
        if mime.startswith("image/"):
            return FileKind.IMAGE
        if mime.startswith("audio/") or mime in _AUDIO_EXTRA_MIMES:
            return FileKind.AUDIO
        if mime == "application/pdf":
            return FileKind.DOCUMENT
        raise ToolInputError(f"file {path.name!r} is {mime}, which no tool reads; send {ACCEPTED}")
    looks_text = all(b >= 9 for b in head[:512]) and _decodes(head)
    what = "plain text" if looks_text else "of an unknown type"
    raise ToolInputError(
        f"file {path.name!r} is {what}, whatever its name says; send {ACCEPTED}"
    )


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
