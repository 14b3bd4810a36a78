"""Uploaded files, stored once by content (sha256) under the data folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

_CHUNK = 1024 * 1024


class ArtifactStore:
    """`put` a file, get its sha256; the same bytes are stored once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        """Where the artifact with this digest lives (it may not exist)."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> tuple[str, Path]:
        """Copy `source` in (atomically); returns (sha256, stored path)."""
        digest = hashlib.sha256()
        with Path(source).open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        sha = digest.hexdigest()
        target = self.path_for(sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # A temp name of its own per call: threads of one process store the same file at once.
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{sha}.", suffix=".tmp")
            tmp = Path(name)
            try:
                with open(fd, "wb") as out, Path(source).open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        return sha, target
