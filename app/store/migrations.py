"""Schema migrations: numbered, applied once, in order, on start or by `jimoku db upgrade`.

Each migration is SQL for both engines (a few type names differ: `{blob}`, `{serial}`).
Several processes starting at once (two APIs, three workers) are safe: the upgrade runs
under a lock, and a process that waited finds the work done. On PostgreSQL the
LangGraph checkpointer's tables and procrastinate's queue schema are set up by the same
command, so one `jimoku db upgrade` prepares a new database completely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.store.db import Database, Executor, open_for
from graphs.contract import now

log = logging.getLogger(__name__)

PostgresExtra = Callable[[str], None]
"""Sets up another client's schema in the same PostgreSQL database, given its URL; idempotent."""
_EXTRAS: dict[str, PostgresExtra] = {}

_TYPES = {
    "sqlite": {"blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgres": {"blob": "BYTEA", "serial": "BIGSERIAL PRIMARY KEY"},
}

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "jobs, decisions, keys, policies, outcomes, tool results", """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, question TEXT NOT NULL, files TEXT NOT NULL,
    auto_approve INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, submitted_by TEXT,
    claimed_by TEXT, claimed_until TEXT, awaiting_since TEXT, submitter_key TEXT);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at);
CREATE TABLE IF NOT EXISTS decisions (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id), decision TEXT NOT NULL,
    recorded_at TEXT NOT NULL, applied INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,
    created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS policies (
    version INTEGER PRIMARY KEY, body TEXT NOT NULL, changed_by TEXT NOT NULL, reason TEXT,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    job_id TEXT PRIMARY KEY, finished_at TEXT NOT NULL, status TEXT NOT NULL, decision TEXT,
    reviewer TEXT, confidence REAL, case_kind TEXT, flags TEXT NOT NULL, route TEXT, audit INTEGER NOT NULL,
    draft_unchanged INTEGER, awaiting_since TEXT, decided_at TEXT, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_finished ON outcomes (finished_at);
CREATE TABLE IF NOT EXISTS tool_results (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""),
    (2, "job events: the audit log of every job's progress, read by SSE streams", """
CREATE TABLE IF NOT EXISTS job_events (
    id {serial}, job_id TEXT NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL,
    worker TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS job_events_job ON job_events (job_id, id);
"""),
    (3, "artifact bytes in the database (read by workers on other machines)", """
CREATE TABLE IF NOT EXISTS artifacts (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data {blob} NOT NULL, created_at TEXT NOT NULL);
"""),
    (4, "review claims and decisions by the reviewer's key id (names are not unique)", """
ALTER TABLE jobs ADD COLUMN claimed_key TEXT;
ALTER TABLE decisions ADD COLUMN reviewer_key TEXT;
CREATE INDEX IF NOT EXISTS jobs_claimed_key ON jobs (claimed_key);
"""),
    (5, "trust: approvals by distinct reviewers, the hash-chained audit log, refused stale decisions", """
CREATE TABLE IF NOT EXISTS approvals (
    job_id TEXT NOT NULL REFERENCES jobs(id), round INTEGER NOT NULL, reviewer_key TEXT NOT NULL,
    reviewer TEXT NOT NULL, decision TEXT NOT NULL, answer TEXT, at TEXT NOT NULL,
    PRIMARY KEY (job_id, round, reviewer_key));
CREATE TABLE IF NOT EXISTS audit_chain (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL, payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS review_refusals (
    id {serial}, job_id TEXT NOT NULL, case_kind TEXT, reviewer_key TEXT, reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS review_refusals_at ON review_refusals (at);
"""),
    (6, "work bounded per key: bytes each job stored, when it last started (fair order), when its files were pruned", """
ALTER TABLE jobs ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN started_at TEXT;
ALTER TABLE jobs ADD COLUMN pruned_at TEXT;
CREATE INDEX IF NOT EXISTS jobs_submitter_status ON jobs (submitter_key, status);
CREATE INDEX IF NOT EXISTS job_events_at ON job_events (at);
"""),
]


_TABLE = ("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
          "applied_at TEXT NOT NULL)")


def register_postgres_extra(name: str, setup: PostgresExtra) -> None:
    """Called by the owner of a schema kept beside ours in PostgreSQL (the checkpointer's tables,
    the queue's), when its module is imported: `upgrade` then sets it up too, under its lock."""
    _EXTRAS[name] = setup


def pending(db: Database) -> list[tuple[int, str]]:
    """Migrations not applied yet (version, name); reads only."""
    exists = (db.one("SELECT to_regclass('schema_migrations') IS NOT NULL") == (True,) if db.dialect == "postgres"
              else db.one("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'") is not None)
    done = {r[0] for r in db.all("SELECT version FROM schema_migrations")} if exists else set()
    return [(v, name) for v, name, _ in MIGRATIONS if v not in done]


def upgrade(db: Database) -> list[int]:
    """Apply what is missing; returns the versions applied now (empty when up to date).

    One process at a time, from before the bookkeeping table exists (PostgreSQL fails two
    concurrent CREATE TABLE IF NOT EXISTS): SQLite's BEGIN IMMEDIATE; on PostgreSQL an
    advisory lock, held also while the registered extras (the checkpointer's and the queue's
    schemas) are set up."""
    with db.session_lock("jimoku-schema", wait_seconds=600) as got:
        if not got:
            raise RuntimeError("another process has been upgrading the schema for 10 minutes; is it stuck?")
        applied = _apply(db)
        if db.dialect == "postgres":
            for name, setup in _EXTRAS.items():  # each on a connection of its own
                log.debug("setting up %s", name)
                setup(db.url)
    return applied


def database_for(settings: Any) -> Database:
    """The database the settings name, with its schema brought up to date (idempotent, locked)."""
    db = open_for(settings)
    upgrade(db)
    return db


def _apply(db: Database) -> list[int]:
    applied: list[int] = []
    with db.transaction() as tx:
        tx.write(_TABLE)
        done = {r[0] for r in tx.all("SELECT version FROM schema_migrations")}
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            for statement in sql.format(**_TYPES[db.dialect]).split(";"):
                if statement.strip():
                    tx.write(statement)
            if version == 1 and db.dialect == "sqlite":
                _add_sqlite_columns(tx)
            if version == 5:
                _keep_unbound_clients(tx)
            tx.write("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                     (version, name, now()))
            log.info("applied migration %d: %s", version, name)
            applied.append(version)
    return applied


def _add_sqlite_columns(tx: Executor) -> None:
    """Databases made by the first release lack columns added since (CREATE IF NOT EXISTS keeps them)."""
    have = {row[1] for row in tx.all("PRAGMA table_info(jobs)")}
    if "submitter_key" not in have:
        tx.write("ALTER TABLE jobs ADD COLUMN submitter_key TEXT")



def _keep_unbound_clients(tx: Executor) -> None:
    """A database in use before fingerprints existed keeps accepting decisions without one (its
    clients do not send it): a policy version saying so. A new install requires them (the default)."""
    if tx.one("SELECT 1 FROM jobs LIMIT 1") is None and tx.one("SELECT 1 FROM api_keys LIMIT 1") is None:
        return
    from app.store.policies import put_in  # the policies module imports the policy model, not migrations

    put_in(tx, {"require_fingerprint": False}, changed_by="migration 5",
           reason="existing install: clients that predate fingerprints keep working; set require_fingerprint "
                  "when they send one")
