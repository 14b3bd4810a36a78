"""Where the graph keeps its checkpoints: a SQLite file on one machine, PostgreSQL to scale out.

Both are LangGraph's own savers (langgraph-checkpoint-sqlite / -postgres), so a job
waiting for review, or a run cut short by a crash, continues from its last checkpoint in
whichever process (or machine) picks it up next.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from app.store.db import Database
from app.store.migrations import register_postgres_extra


def sqlite_checkpointer(path: Path) -> SqliteSaver:
    """A checkpointer in a SQLite file (WAL, so readers do not block the writer)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def postgres_checkpointer(url: str, *, max_size: int = 8) -> BaseCheckpointSaver:
    """A checkpointer over a psycopg pool (the saver wants autocommit and dict rows).

    Its tables are created by `jimoku db upgrade` (`setup_postgres_checkpointer`)."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    pool: ConnectionPool[Any] = ConnectionPool(
        url, min_size=1, max_size=max_size, open=True, name="jimoku-checkpoints",
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
    return PostgresSaver(pool)


def setup_postgres_checkpointer(url: str) -> None:
    """Create or migrate the checkpointer's tables (its own numbered migrations)."""
    from langgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()


def checkpointer_for(db: Database) -> BaseCheckpointSaver:
    """The checkpointer beside `db`: in the same SQLite file, or the same PostgreSQL database."""
    if db.dialect == "postgres":
        return postgres_checkpointer(db.url)
    return sqlite_checkpointer(Path(db.url.removeprefix("sqlite:///")))


def close_checkpointer(saver: BaseCheckpointSaver) -> None:
    """Release the saver's connection (a SQLite connection, or the PostgreSQL pool)."""
    conn = getattr(saver, "conn", None)
    if conn is not None and hasattr(conn, "close"):
        conn.close()


register_postgres_extra("langgraph checkpoints", setup_postgres_checkpointer)
