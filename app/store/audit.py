"""The tamper-evident audit log: decisions, approvals, policy versions, key changes and automation
pauses, appended to one hash chain in the table `audit_chain`.

Each entry holds the previous entry's hash, and its own hash covers its sequence number, time,
kind, actor, payload and that previous hash. Changing, inserting or deleting a row in the
middle breaks the chain at that entry, which `verify` names (`jimoku audit verify`). Removing
entries from the end is caught only by comparing with a chain head kept elsewhere: the export
and `jimoku audit head` print it for that.

Appends run in a transaction that locks the table (SQLite's write lock, PostgreSQL's table
lock), so concurrent writers on many machines extend one chain and never fork it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from app.store.db import Database, Executor
from graphs.contract import now

GENESIS = "0" * 64
"""The `prev_hash` of the first entry."""
TABLE = "audit_chain"


def canonical(payload: dict[str, Any]) -> str:
    """The one JSON spelling of a payload (sorted keys, no spaces): what the hash covers."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(seq: int, at: str, kind: str, actor: str, payload: str, prev_hash: str) -> str:
    """sha256 over an entry's fields and the previous entry's hash."""
    return hashlib.sha256("\n".join((prev_hash, str(seq), at, kind, actor, payload)).encode()).hexdigest()


def lock_chain(tx: Executor, dialect: str) -> None:
    """Inside a transaction opened for another table: take the chain's lock too (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already holds the whole file). Always after the other table's lock, never before."""
    if dialect == "postgres":
        tx.write(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")


def append_in(tx: Executor, kind: str, actor: str, payload: dict[str, Any]) -> int:
    """Append one entry inside the caller's transaction, which must hold the chain's lock; its seq."""
    last = tx.one(f"SELECT seq, hash FROM {TABLE} ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    at, body = now(), canonical(payload)
    tx.write(f"INSERT INTO {TABLE} (seq, at, kind, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
             (seq, at, kind, actor, body, prev, entry_hash(seq, at, kind, actor, body, prev)))
    return seq


@dataclass(frozen=True)
class Verification:
    """What walking the chain found."""

    ok: bool
    entries: int
    head: dict[str, Any] | None
    """The last entry's seq and hash (of the intact part when broken)."""
    broken_seq: int | None = None
    problem: str | None = None


class AuditLog:
    """The chain over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, kind: str, actor: str, payload: dict[str, Any]) -> int:
        """Append one entry (its own transaction); returns its seq."""
        with self.db.transaction(lock=TABLE) as tx:
            return append_in(tx, kind, actor, payload)

    def head(self) -> dict[str, Any] | None:
        """The newest entry's seq, hash and time, or None when the log is empty."""
        row = self.db.one(f"SELECT seq, hash, at FROM {TABLE} ORDER BY seq DESC LIMIT 1")
        return {"seq": int(row[0]), "hash": row[1], "at": row[2]} if row else None

    def entries(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Entries with seq > `after`, oldest first."""
        rows = self.db.all(f"SELECT seq, at, kind, actor, payload, prev_hash, hash FROM {TABLE} WHERE seq > ? "
                           "ORDER BY seq LIMIT ?", (after, limit))
        return [{"seq": r[0], "at": r[1], "kind": r[2], "actor": r[3], "payload": json.loads(r[4]),
                 "prev_hash": r[5], "hash": r[6]} for r in rows]

    def verify(self, *, page: int = 5000) -> Verification:
        """Walk the chain from the first entry; stop at the first one that does not hold."""
        prev, expected, count, after = GENESIS, 1, 0, 0
        head: dict[str, Any] | None = None
        while rows := self.db.all(f"SELECT seq, at, kind, actor, payload, prev_hash, hash FROM {TABLE} "
                                  "WHERE seq > ? ORDER BY seq LIMIT ?", (after, page)):
            for seq, at, kind, actor, payload, prev_hash, stored in rows:
                problem = None
                if seq != expected:
                    problem = f"entry {expected} is missing (next is {seq}): entries were deleted"
                elif prev_hash != prev:
                    problem = f"its prev_hash {prev_hash[:12]}… is not entry {seq - 1}'s hash {prev[:12]}…"
                elif entry_hash(seq, at, kind, actor, payload, prev_hash) != stored:
                    problem = ("its contents do not match its hash: the row (time, kind, actor or payload) "
                               "was changed after it was written")
                if problem:
                    return Verification(False, count, head, broken_seq=min(seq, expected), problem=problem)
                prev, expected, count = stored, seq + 1, count + 1
                head = {"seq": seq, "hash": stored, "at": at}
            after = rows[-1][0]
        return Verification(True, count, head)
