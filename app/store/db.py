"""One database handle for every store: SQLite on one machine, PostgreSQL to scale out.

Stores write their SQL once, with `?` placeholders and the SQL both engines share
(`ON CONFLICT`, `RETURNING`, `LIKE`, `substr`); the PostgreSQL handle turns `?` into
psycopg's `%s`. Which engine is used is one setting: `JIMOKU_DATABASE_URL` (a
`postgresql://` URL) or, when unset, the SQLite file in the data folder.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs statements on one connection (a whole database, or one transaction)."""

    def one(self, query: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None: ...

    def all(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def write(self, query: str, args: tuple[Any, ...] = ()) -> int: ...


class Database(Executor, Protocol):
    """What the stores need from a database."""

    dialect: str
    """"sqlite" or "postgres": the few statements that differ are chosen by this."""
    url: str
    """Where the database is (`sqlite:///path` or the `postgresql://` URL): other clients of the
    same database (the checkpointer, the queue) connect with it."""

    @property
    def integrity_error(self) -> type[Exception]:
        """Raised by a write that breaks a unique key (a second decision on a job, …)."""
        ...

    def transaction(self, lock: str | None = None) -> AbstractContextManager[Executor]:
        """A context manager giving an `Executor` whose statements commit together.

        `lock` names a table to lock against concurrent writers for the transaction.
        """
        ...

    def session_lock(self, name: str, wait_seconds: float = 0.0) -> AbstractContextManager[bool]:
        """Hold the lock `name` while the block runs; yields False (holding nothing) when someone
        else still holds it after `wait_seconds`. One job runs in one place at a time by it."""
        ...

    def close(self) -> None: ...


class SqliteDatabase:
    """One SQLite file in WAL mode; one connection shared by this process's threads."""

    dialect = "sqlite"
    integrity_error = sqlite3.IntegrityError

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.RLock()
        self._held: set[str] = set()
        self._held_lock = threading.Lock()

    def one(self, query: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            return self._conn.execute(query, args).fetchone()

    def all(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(query, args).fetchall()

    def write(self, query: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock:
            return self._conn.execute(query, args).rowcount

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[SqliteDatabase]:
        # BEGIN IMMEDIATE takes the file's write lock at once: SQLite's table lock.
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def session_lock(self, name: str, wait_seconds: float = 0.0) -> Iterator[bool]:
        """Hold `name` among this handle's threads. On one machine the jobs run in the process that
        holds the handle (the service's workers, or one CLI command), so that is enough."""
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._held_lock:
                got = name not in self._held
                if got:
                    self._held.add(name)
            if got or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        try:
            yield got
        finally:
            if got:
                with self._held_lock:
                    self._held.discard(name)

    def close(self) -> None:
        self._conn.close()


def _pg(query: str) -> str:
    # Our SQL has no literal `?` or `%`; placeholders become psycopg's.
    return query.replace("%", "%%").replace("?", "%s")


class _PgExecutor:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def one(self, query: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        return self._conn.execute(_pg(query), args).fetchone()

    def all(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(_pg(query), args).fetchall()

    def write(self, query: str, args: tuple[Any, ...] = ()) -> int:
        return self._conn.execute(_pg(query), args).rowcount


class PostgresDatabase:
    """A psycopg connection pool; each statement runs on a pooled connection (autocommit)."""

    dialect = "postgres"

    def __init__(self, url: str, *, max_size: int = 10) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self.integrity_error = psycopg.errors.UniqueViolation
        # timeout: how long a request waits for a connection before it is answered 503.
        self.pool = ConnectionPool(url, min_size=1, max_size=max_size, kwargs={"autocommit": True},
                                   open=True, name="jimoku", timeout=10)
        self.pool.wait(timeout=30)

    def one(self, query: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self.pool.connection() as conn:
            return _PgExecutor(conn).one(query, args)

    def all(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            return _PgExecutor(conn).all(query, args)

    def write(self, query: str, args: tuple[Any, ...] = ()) -> int:
        with self.pool.connection() as conn:
            return _PgExecutor(conn).write(query, args)

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[_PgExecutor]:
        with self.pool.connection() as conn, conn.transaction():
            if lock:
                conn.execute(f"LOCK TABLE {lock} IN SHARE ROW EXCLUSIVE MODE")
            yield _PgExecutor(conn)

    @contextmanager
    def session_lock(self, name: str, wait_seconds: float = 0.0) -> Iterator[bool]:
        """Hold a PostgreSQL advisory lock named `name` while the block runs; yields False
        (and holds nothing) when another session still holds it after `wait_seconds`. The
        server frees it when this process dies, so a killed worker never leaves it held.

        Waiting polls with short statements rather than blocking inside one: a session
        blocked in a statement has an open transaction, and `CREATE INDEX CONCURRENTLY`
        (which the checkpointer's migrations run) waits for every open transaction."""
        # A 64-bit key from the name: two jobs sharing a lock by chance is out of reach.
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        deadline = time.monotonic() + wait_seconds
        with self.pool.connection() as conn:
            while not (got := conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() == (True,)):
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.2)
            try:
                yield got
            finally:
                if got:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        self.pool.close()


def open_database(url: str | None, sqlite_path: Path, *, pool_size: int = 10) -> Database:
    """PostgreSQL when `url` is set, else the SQLite file."""
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"JIMOKU_DATABASE_URL must be a postgresql:// URL, not {url.split(':', 1)[0]}://")
        return PostgresDatabase(url, max_size=pool_size)
    return SqliteDatabase(sqlite_path)


def open_for(settings: Any) -> Database:
    """The database the settings name, as it is (no migration: see `migrations.database_for`)."""
    return open_database(settings.database_url, settings.data_dir / "jimoku.db", pool_size=settings.database_pool_size)
