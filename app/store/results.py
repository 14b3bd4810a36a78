"""Tool results cached in the service's database, keyed by `graphs.cache.cache_key`.

Shared by every process using the database: on several machines, a result one worker
computed is found by all (and a step sent to another worker's queue comes back here).
"""

from __future__ import annotations

import json
from typing import Any

from app.store.db import Database


class DatabaseResultCache:
    """The `tool_results` table, as a `graphs.cache.ResultCache`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result for `key`, or None."""
        row = self.db.one("SELECT value FROM tool_results WHERE key = ?", (key,))
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store (or replace) the result for `key`."""
        self.db.write("INSERT INTO tool_results (key, value) VALUES (?, ?) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      (key, json.dumps(value, ensure_ascii=False)))
