"""Receive an upload into a file, refusing it while streaming once it is too large."""

from __future__ import annotations

import errno
import tempfile
import wave
from pathlib import Path

from fastapi import HTTPException, UploadFile, status

from tools.errors import ToolInputError

_CHUNK = 1024 * 1024


async def save_upload(upload: UploadFile, folder: Path, max_bytes: int) -> Path:
    """Write `upload` under `folder`; 413 as soon as it passes `max_bytes`, 400 when empty."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="upload-")
    except OSError as exc:
        raise disk_error(exc) from None
    path = Path(name)
    size = 0
    try:
        with open(fd, "wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        f"file {upload.filename!r} is over the {max_bytes // 1_000_000} MB limit",
                    )
                out.write(chunk)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise disk_error(exc) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"file {upload.filename!r} is empty")
    return path


def as_uploaded(message: str, path: Path, name: str) -> str:
    """`message` about the temp file `path`, naming the uploaded file `name` instead."""
    return message.replace(str(path), name).replace(path.name, name)


def safe_name(filename: str | None) -> str:
    """A display name from the client's file name: no path, no control characters, bounded."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())
    return name[:200] or "upload"


def disk_error(exc: OSError) -> HTTPException:
    """507 when the disk is full (nothing was accepted; try again later), else 500 with the cause."""
    if exc.errno == errno.ENOSPC:
        return HTTPException(status.HTTP_507_INSUFFICIENT_STORAGE,
                             "the server's disk is full; nothing was stored, try again later")
    return HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, f"could not store the upload: {exc.strerror}")


def check_wav_header(path: Path, name: str, max_seconds: float) -> None:
    """Refuse a WAV longer than `max_seconds` from its RIFF header alone (issue 18: a 190 MB
    zero-padded WAV cost ~30 s of decoding before its 400). The length is the data chunk's,
    capped by what the file holds; anything but a PCM WAV is left to ffprobe (`tools.validate`).
    `ToolInputError` with the reason, naming the uploaded file."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, frame_bytes = wav.getframerate(), wav.getnchannels() * wav.getsampwidth()
            frames = wav.getnframes()
    except (wave.Error, EOFError, OSError, ValueError):
        return  # not a PCM WAV the stdlib reads: the slower probe decides
    if rate <= 0 or frame_bytes <= 0:
        raise ToolInputError(f"the recording {name!r} has a broken WAV header (rate {rate}, frame {frame_bytes} bytes); "
                             "send a WAV, MP3, M4A, OGG/Opus or FLAC recording")
    frames = min(frames, path.stat().st_size // frame_bytes)  # a header may claim more than is there
    seconds = frames / rate
    if seconds > max_seconds:
        raise ToolInputError(f"the recording {name!r} is {seconds / 60:.1f} minutes long; the limit is "
                             f"{max_seconds / 60:.0f} minutes: send a shorter clip")
