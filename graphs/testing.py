"""Test doubles for the graph, kept out of the production modules.

`ScriptedChatModel` stands in for the LLM only (the interface the graph uses); the tools,
the database and the checkpointer stay real in every test that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphs.llm import CompletionStats, Message


@dataclass
class ScriptedChatModel:
    """A fake LLM for unit tests: each call pops the next scripted reply.

    A reply may be a string, a dict (sent as JSON) or a callable receiving
    (messages, schema), so a test can check what the graph asked.
    """

    replies: list[str | dict[str, Any] | Callable[[Sequence[Message], dict[str, Any] | None], Any]]
    name: str = "scripted"
    calls: list[tuple[list[Message], dict[str, Any] | None]] = field(default_factory=list)
    last: CompletionStats = field(default_factory=CompletionStats)

    def load(self, purposes: Sequence[str] = ("plan", "draft")) -> None:
        """Nothing to load."""

    def complete(self, messages: Sequence[Message], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512, purpose: str = "default") -> str:
        self.calls.append((list(messages), schema))
        if not self.replies:
            raise AssertionError("ScriptedChatModel ran out of replies")
        reply = self.replies.pop(0)
        if callable(reply):
            reply = reply(messages, schema)
        return reply if isinstance(reply, str) else json.dumps(reply)
