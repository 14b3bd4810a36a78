"""Uploaded files, stored once by content (sha256).

On one machine they are files under the data folder. With PostgreSQL (several machines)
the bytes are also kept in the `artifacts` table (bytea; an upload is already capped by
`max_upload_bytes`), and the files folder becomes each machine's local copy, filled on
first use: a worker on another machine reads the upload it needs from the database.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from app.store.db import Database
from graphs.contract import now
from tools.atomic import atomic_path

_CHUNK = 1024 * 1024


class ArtifactStore:
    """`put` a file, get its sha256; the same bytes are stored once."""

    def __init__(self, root: Path, db: Database | None = None) -> None:
        self.root = Path(root)
        self.db = db
        """A database that keeps the bytes too (PostgreSQL), or None (files only)."""

    def path_for(self, sha256: str) -> Path:
        """Where the artifact with this digest lives locally (it may not exist)."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def local_path(self, sha256: str) -> Path:
        """The artifact as a local file, copied from the database first if this machine lacks it.

        Raises FileNotFoundError when it exists nowhere."""
        target = self.path_for(sha256)
        if target.is_file() or self.db is None:
            if not target.is_file():
                raise FileNotFoundError(f"no artifact {sha256}")
            return target
        row = self.db.one("SELECT data FROM artifacts WHERE sha256 = ?", (sha256,))
        if row is None:
            raise FileNotFoundError(f"no artifact {sha256}")
        with atomic_path(target, mode=0o600) as tmp:
            tmp.write_bytes(bytes(row[0]))
        return target

    def put(self, source: Path) -> tuple[str, Path]:
        """Copy `source` in (atomically); returns (sha256, stored path)."""
        digest = hashlib.sha256()
        with Path(source).open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        sha = digest.hexdigest()
        target = self.path_for(sha)
        if not target.exists():
            with atomic_path(target, mode=0o600) as tmp:
                shutil.copyfile(source, tmp)
        if self.db is not None and self.db.one("SELECT 1 FROM artifacts WHERE sha256 = ?", (sha,)) is None:
            data = target.read_bytes()
            self.db.write("INSERT INTO artifacts (sha256, size, data, created_at) VALUES (?, ?, ?, ?) "
                          "ON CONFLICT (sha256) DO NOTHING", (sha, len(data), data, now()))
        return sha, target

    def delete(self, sha256: str) -> int:
        """Remove an artifact's bytes (the local file and, with PostgreSQL, its row); the bytes freed
        here. Used by retention (`app.retention`) once no unpruned job holds it."""
        target, freed = self.path_for(sha256), 0
        if target.is_file():
            freed = target.stat().st_size
            target.unlink(missing_ok=True)
        if self.db is not None:
            row = self.db.one("SELECT size FROM artifacts WHERE sha256 = ?", (sha256,))
            if row is not None:
                freed = max(freed, int(row[0]))
                self.db.write("DELETE FROM artifacts WHERE sha256 = ?", (sha256,))
        return freed
