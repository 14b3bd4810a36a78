"""Review policies, versioned: every change (by an admin, or a pause after an audit
disagreement) is a new row, so what decided any past job can be looked up."""

from __future__ import annotations

import json
from typing import Any

from app.store.db import Database
from graphs.contract import now
from graphs.policy import Policy


class PolicyStore:
    """Policies in the database; the highest version is in force."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def current(self) -> tuple[Policy, int]:
        """The policy in force and its version (version 0: the built-in default)."""
        row = self.db.one("SELECT body, version FROM policies ORDER BY version DESC LIMIT 1")
        return (Policy.model_validate_json(row[0]), row[1]) if row else (Policy(), 0)

    def put(self, policy: Policy, *, changed_by: str, reason: str | None = None) -> int:
        """Store a new version; returns its number."""
        with self.db.transaction(lock="policies") as tx:
            row = tx.one("SELECT COALESCE(MAX(version), 0) FROM policies")
            version = int(row[0] if row else 0) + 1
            tx.write("INSERT INTO policies (version, body, changed_by, reason, created_at) VALUES (?, ?, ?, ?, ?)",
                     (version, policy.model_dump_json(), changed_by, reason, now()))
        return version

    def history(self) -> list[dict[str, Any]]:
        """Every version, newest first."""
        rows = self.db.all("SELECT version, body, changed_by, reason, created_at FROM policies ORDER BY version DESC")
        return [{"version": v, "policy": json.loads(b), "changed_by": c, "reason": r, "created_at": t}
                for v, b, c, r, t in rows]

    def pause(self, case_kind: str, reason: str) -> int:
        """Pause automation for a case kind (a new version, changed by the system)."""
        policy, _ = self.current()
        if case_kind in policy.paused_case_kinds:
            return self.current()[1]
        paused = policy.model_copy(update={"paused_case_kinds": {**policy.paused_case_kinds, case_kind: reason}})
        return self.put(paused, changed_by="system", reason=reason)
