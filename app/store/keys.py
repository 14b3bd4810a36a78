"""API keys: stored hashed, compared in constant time, each with one role.

A key reads `jmk_<id>_<secret>`. The id finds the row; the sha256 of the whole key is
compared with `hmac.compare_digest`. The secret has 256 bits of randomness, so a plain
sha256 (no slow KDF) is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from app.auth import Principal, Role
from app.errors import Conflict
from app.store.audit import append_in, lock_chain
from app.store.db import Database
from graphs.contract import now


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_ACTIVE_ADMIN = "SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1"
_ANY_ADMIN = "SELECT 1 FROM api_keys WHERE role = 'admin' LIMIT 1"


class KeyStore:
    """API keys in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, role: Role, name: str) -> tuple[str, str]:
        """A new key; returns (id, key). The key itself is never stored or shown again."""
        made = self._create(role, name, only_if_no_admin=False)
        assert made is not None
        return made

    def create_first_admin(self) -> tuple[str, str] | None:
        """An admin key when no admin key was ever made (active or revoked), else None: a database
        whose admin keys were all revoked does not get a new one at the next start. The check and
        the insert hold the table lock, so two API processes starting at once make one key."""
        return self._create(Role.admin, "first admin", only_if_no_admin=True)

    def has_active_admin(self) -> bool:
        """Whether any admin key is active."""
        return self.db.one(_ACTIVE_ADMIN) is not None

    def _create(self, role: Role, name: str, *, only_if_no_admin: bool) -> tuple[str, str] | None:
        key_id = secrets.token_hex(4)
        key = f"jmk_{key_id}_{secrets.token_urlsafe(32)}"
        with self.db.transaction(lock="api_keys") as tx:
            if only_if_no_admin and tx.one(_ANY_ADMIN) is not None:
                return None
            tx.write("INSERT INTO api_keys (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                     (key_id, name, role.name, _hash(key), now()))
            lock_chain(tx, self.db.dialect)
            append_in(tx, "key_created", "key store", {"key_id": key_id, "name": name, "role": role.name})
        return key_id, key

    def verify(self, key: str) -> Principal | None:
        """The principal for a presented key, or None (unknown, malformed or revoked)."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "jmk":
            return None
        row = self.db.one("SELECT id, name, role, hash FROM api_keys WHERE id = ? AND revoked_at IS NULL", (parts[1],))
        if row is None or not hmac.compare_digest(row[3], _hash(key)):
            return None
        return Principal(key_id=row[0], name=row[1], role=Role[row[2]])

    def active(self, key_id: str) -> Principal | None:
        """The key `key_id` as it stands now, or None once revoked: one primary-key read, cheap enough
        for a long-lived connection (an SSE stream) to ask every few seconds."""
        row = self.db.one("SELECT id, name, role FROM api_keys WHERE id = ? AND revoked_at IS NULL", (key_id,))
        if row is None or row[2] not in Role.__members__:
            return None
        return Principal(key_id=row[0], name=row[1], role=Role[row[2]])

    def list(self) -> list[dict[str, str | None]]:
        """Keys without secrets: id, name, role, created, revoked."""
        rows = self.db.all("SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY created_at")
        return [dict(zip(("id", "name", "role", "created_at", "revoked_at"), r, strict=True)) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key and release its review claims; False when there is no such active key. The
        last active admin key is not revoked (`Conflict`): nobody could manage keys after it. Checked
        under the table lock, so two admins revoking each other at once leave one."""
        with self.db.transaction(lock="api_keys") as tx:
            row = tx.one("SELECT role FROM api_keys WHERE id = ? AND revoked_at IS NULL", (key_id,))
            if row is None:
                return False
            if row[0] == "admin" and tx.one(
                    "SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL AND id <> ? LIMIT 1",
                    (key_id,)) is None:
                raise Conflict(f"key {key_id} is the last active admin key; create another admin key first")
            tx.write("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now(), key_id))
            lock_chain(tx, self.db.dialect)
            append_in(tx, "key_revoked", "key store", {"key_id": key_id, "role": row[0]})
            # A revoked reviewer's review claims are released at once, not left to expire.
            tx.write("UPDATE jobs SET claimed_by = NULL, claimed_key = NULL, claimed_until = NULL "
                     "WHERE claimed_key = ?", (key_id,))
        return True


def ensure_admin_key(store: KeyStore, key_file: Path) -> str | None:
    """On first start, create an admin key and write it to `key_file` (mode 0600, its folder 0700).

    Returns the new key; the caller prints only where the file is (stdout is the log under a
    supervisor). None when an admin key was ever made: nothing is created or printed again.
    """
    made = store.create_first_admin()
    if made is None:
        return None
    _, key = made
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file was there before
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key
