"""Tool results cached by (tool, tool version, artifact sha256, arguments).

The same photo is never processed twice by the same tool version with the same
arguments: a re-run of the execute node after a crash, or a second job about the same
nameplate, gets the stored result in microseconds. Only successful results are cached.
The service keeps them in its database (`app.store.results`); this module has the
interface and the in-process cache the graph's tests and one-off runs use.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, Protocol


def cache_key(tool: str, version: str, sha256: str, args: dict[str, Any]) -> str:
    """A stable key; arguments are serialised with sorted keys."""
    raw = json.dumps([tool, version, sha256, args], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


class ResultCache(Protocol):
    """Where tool results are kept."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result for `key`, or None."""
        ...

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store (or replace) the result for `key`."""
        ...


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
