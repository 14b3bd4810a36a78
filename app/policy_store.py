"""Review policies, versioned: every change (by an admin, or a pause after an audit
disagreement) is a new row, so what decided any past job can be looked up."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from app.jobs import utcnow
from graphs.policy import Policy


class PolicyStore:
    """Policies in SQLite; the highest version is in force."""

    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS policies (version INTEGER PRIMARY KEY, body TEXT NOT NULL, "
            "changed_by TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL)"
        )
        self._lock = threading.Lock()

    def current(self) -> tuple[Policy, int]:
        """The policy in force and its version (version 0: the built-in default)."""
        with self._lock:
            row = self._conn.execute("SELECT body, version FROM policies ORDER BY version DESC LIMIT 1").fetchone()
        return (Policy.model_validate_json(row[0]), row[1]) if row else (Policy(), 0)

    def put(self, policy: Policy, *, changed_by: str, reason: str | None = None) -> int:
        """Store a new version; returns its number."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT COALESCE(MAX(version), 0) FROM policies").fetchone()
                version = row[0] + 1
                self._conn.execute(
                    "INSERT INTO policies (version, body, changed_by, reason, created_at) VALUES (?, ?, ?, ?, ?)",
                    (version, policy.model_dump_json(), changed_by, reason, utcnow()),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return version

    def history(self) -> list[dict[str, Any]]:
        """Every version, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT version, body, changed_by, reason, created_at FROM policies ORDER BY version DESC"
            ).fetchall()
        return [{"version": v, "policy": json.loads(b), "changed_by": c, "reason": r, "created_at": t}
                for v, b, c, r, t in rows]

    def pause(self, case_kind: str, reason: str) -> int:
        """Pause automation for a case kind (a new version, changed by the system)."""
        policy, _ = self.current()
        if case_kind in policy.paused_case_kinds:
            return self.current()[1]
        paused = policy.model_copy(update={"paused_case_kinds": {**policy.paused_case_kinds, case_kind: reason}})
        return self.put(paused, changed_by="system", reason=reason)
