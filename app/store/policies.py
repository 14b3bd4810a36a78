"""Review policies, versioned: every change (by an admin, or a pause after an audit
disagreement) is a new row, so what decided any past job can be looked up."""

from __future__ import annotations

import json
from typing import Any

from app.store.audit import append_in, lock_chain
from app.store.db import Database, Executor
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
            lock_chain(tx, self.db.dialect)
            return put_in(tx, policy.model_dump(), changed_by=changed_by, reason=reason)

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


def put_in(tx: Executor, update: dict[str, Any], *, changed_by: str, reason: str | None) -> int:
    """Inside a transaction holding the policies' and the audit chain's locks: store the policy in
    force with `update` applied (a whole policy's fields replace it) as a new version, and append it
    to the audit chain; returns the version."""
    row = tx.one("SELECT body, version FROM policies ORDER BY version DESC LIMIT 1")
    base = Policy.model_validate_json(row[0]) if row else Policy()
    policy = Policy.model_validate(base.model_dump() | update)
    version = int(row[1]) + 1 if row else 1
    tx.write("INSERT INTO policies (version, body, changed_by, reason, created_at) VALUES (?, ?, ?, ?, ?)",
             (version, policy.model_dump_json(), changed_by, reason, now()))
    kind = "automation_paused" if changed_by == "system" and len(policy.paused_case_kinds) > len(
        base.paused_case_kinds) else "policy_version"
    append_in(tx, kind, changed_by, {"version": version, "reason": reason, "policy": policy.model_dump()})
    return version
