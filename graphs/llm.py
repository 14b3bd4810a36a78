"""The LLM behind one small interface, so tests can script it.

`ChatModel.complete(messages, schema)` returns the assistant's text; with a JSON schema
the output is constrained to it by llama.cpp's grammar, so it always parses and can only
name what the schema allows. `LlamaChatModel` is the real one; `ScriptedChatModel`
replays answers for unit tests of the graph.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

Message = dict[str, str]


@dataclass
class CompletionStats:
    """Token counts and timings of the last completion (for logs and the benchmark)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds else 0.0


class ChatModel(Protocol):
    """What the graph needs from an LLM."""

    name: str
    last: CompletionStats

    def complete(self, messages: Sequence[Message], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512) -> str:
        """The assistant's reply to `messages`; JSON matching `schema` when given."""
        ...


@dataclass(frozen=True)
class LlamaConfig:
    """How to load a GGUF model."""

    path: Path
    chat_format: str | None = None
    """None uses the chat template stored in the GGUF."""
    n_ctx: int = 8192
    n_threads: int = 2
    seed: int = 7
    prefix_cache_bytes: int = 512 * 1024 * 1024


class LlamaChatModel:
    """llama-cpp-python, loaded once on first use, one call at a time (it is not thread-safe).

    The KV state after each prompt is kept in a RAM cache keyed by tokens, so the next
    prompt that starts the same way (the system prompt and tool catalogue) skips
    re-evaluating that prefix even when other prompts ran in between.
    """

    def __init__(self, config: LlamaConfig) -> None:
        self.config = config
        self.name = Path(config.path).name
        self._llm: Any = None
        self._lock = threading.Lock()
        self.last = CompletionStats()

    def load(self) -> None:
        """Load the model now (a warm-up); otherwise the first completion loads it."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._llm is not None:
            return
        # A busy 2-core box with spinning OpenMP threads runs llama.cpp up to 30x slower.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from llama_cpp import Llama, LlamaRAMCache

        config = self.config
        if not Path(config.path).is_file():
            raise FileNotFoundError(
                f"planner model {config.path} does not exist; run `jimoku models install` "
                "or set JIMOKU_PLANNER_MODEL to a GGUF file"
            )
        llm = Llama(
            model_path=str(config.path),
            n_ctx=config.n_ctx,
            n_threads=config.n_threads,
            n_threads_batch=config.n_threads,
            chat_format=config.chat_format,
            seed=config.seed,
            verbose=False,
        )
        llm.set_cache(LlamaRAMCache(capacity_bytes=config.prefix_cache_bytes))
        self._llm = llm

    def complete(self, messages: Sequence[Message], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512) -> str:
        kwargs: dict[str, Any] = {"temperature": 0.0, "max_tokens": max_tokens}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        with self._lock:
            self._load_locked()
            started = time.perf_counter()
            out = self._llm.create_chat_completion(messages=list(messages), **kwargs)
            usage = out.get("usage", {})
            self.last = CompletionStats(
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                seconds=time.perf_counter() - started,
            )
        return out["choices"][0]["message"]["content"] or ""


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

    def complete(self, messages: Sequence[Message], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512) -> str:
        self.calls.append((list(messages), schema))
        if not self.replies:
            raise AssertionError("ScriptedChatModel ran out of replies")
        reply = self.replies.pop(0)
        if callable(reply):
            reply = reply(messages, schema)
        return reply if isinstance(reply, str) else json.dumps(reply)
