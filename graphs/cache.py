"""Tool results cached by (tool, tool version, artifact sha256, arguments).

The same photo is never processed twice by the same tool version with the same
arguments: a re-run of the execute node after a crash, or a second job about the same
nameplate, gets the stored result in microseconds. Only successful results are cached.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol


def cache_key(tool: str, version: str, sha256: str, args: dict[str, Any]) -> str:
    """A stable key; arguments are serialised with sorted keys."""
    raw = json.dumps([tool, version, sha256, args], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


class ResultCache(Protocol):
    """Where tool results are kept."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


class SingleFlight:
    """One computation per key at a time in this process: a second caller waits for the
    first and then finds its result in the cache (two jobs about the same photo at once)."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: str) -> threading.Lock:
        """The lock for `key` (created on first use)."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class MemoryResultCache:
    """In-process cache (tests, the CLI's one-off runs)."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self._data.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._data[key] = value


class SqliteResultCache:
    """Cache in a SQLite file, shared by every process on the machine."""

    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS tool_results (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._conn.commit()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM tool_results WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO tool_results (key, value) VALUES (?, ?)",
                (key, json.dumps(value, ensure_ascii=False)),
            )
            self._conn.commit()
