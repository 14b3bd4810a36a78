"""Check an upload before a job is accepted, so a bad file is a 400 now, not a failed job later.

The same loaders the tools use decide: an image must decode (size limits, not truncated),
a PDF must open and have pages, a recording must be readable by ffprobe and within the
duration limit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools.context import ToolContext
from tools.errors import ToolInputError
from tools.images import load_image
from tools.pdf import page_count
from tools.registry import FileKind

_PROBE_TIMEOUT_S = 30


def validate_file(path: Path, kind: FileKind, ctx: ToolContext) -> None:
    """Raise `ToolInputError` with a reason when no tool could read `path`."""
    if kind is FileKind.IMAGE:
        load_image(path, ctx).close()
    elif kind is FileKind.DOCUMENT:
        page_count(path)
    elif kind is FileKind.AUDIO:
        seconds = audio_seconds(path)
        decode_start(path)
        if seconds > ctx.max_audio_seconds:
            raise ToolInputError(
                f"the recording {path.name!r} is {seconds / 60:.1f} minutes long; the limit is "
                f"{ctx.max_audio_seconds / 60:.0f} minutes: send a shorter clip"
            )


def decode_start(path: Path, seconds: float = 2.0) -> None:
    """Decode the first seconds: a container can be fine while its codec is unknown."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-t", f"{seconds}", "-i", f"file:{path}", "-f", "null", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolInputError(f"the recording {path.name!r} could not be decoded in {_PROBE_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ToolInputError(f"the recording {path.name!r} cannot be decoded ({reason}); "
                             "send a WAV, MP3, M4A, OGG/Opus or FLAC recording")


def audio_seconds(path: Path) -> float:
    """Duration of a recording by its container (ffprobe), or `ToolInputError`."""
    cmd = ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
           "-of", "default=noprint_wrappers=1", f"file:{path}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolInputError(f"the recording {path.name!r} could not be read in {_PROBE_TIMEOUT_S} s") from None
    fields = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    if proc.returncode != 0 or fields.get("codec_type") != "audio":
        reason = (proc.stderr.strip().splitlines() or ["no audio stream"])[-1]
        raise ToolInputError(f"the recording {path.name!r} cannot be decoded ({reason}); "
                             "send a WAV, MP3, M4A, OGG/Opus or FLAC recording")
    try:
        return float(fields.get("duration", "nan"))
    except ValueError:
        return 0.0  # no duration in the container: the ASR tool's own limit still applies
