"""The LLM behind one small interface, so tests can script it.

`ChatModel.complete(messages, schema)` returns the assistant's text; with a JSON schema
the output is constrained to it by llama.cpp's grammar, so it always parses and can only
name what the schema allows. `LlamaChatModel` is the real one, built from settings by
`load_chat_model`; `graphs.testing.ScriptedChatModel` replays answers for unit tests.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from graphs import llm_prefix

Message = dict[str, str]
log = logging.getLogger(__name__)


@dataclass
class CompletionStats:
    """Token counts and timings of the last completion (for logs and the benchmark)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    prompt_evaluated: int = 0
    """Prompt tokens llama.cpp evaluated: the rest came from the context's cached prefix."""
    prompt_ms: float = 0.0
    """llama.cpp's time evaluating the prompt (its own counters)."""
    generation_ms: float = 0.0
    """llama.cpp's time generating the reply."""
    load_ms: float = 0.0
    """Time this call spent loading the model (its purpose's first call only)."""

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds else 0.0


class ChatModel(Protocol):
    """What the graph needs from an LLM."""

    name: str
    last: CompletionStats

    def complete(self, messages: Sequence[Message], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512, purpose: str = "default") -> str:
        """The assistant's reply to `messages`; JSON matching `schema` when given.

        `purpose` ("plan", "draft") lets an implementation keep one context per kind of
        prompt, so each keeps its own long, stable prefix evaluated.
        """
        ...

    def load(self, purposes: Sequence[str] = ("plan", "draft")) -> None:
        """Load the model now, for these purposes' contexts (a warm-up); otherwise the first
        completion does."""
        ...


@dataclass(frozen=True)
class LlamaConfig:
    """How to load a GGUF model."""

    path: Path
    chat_format: str | None = None
    """None uses the chat template stored in the GGUF."""
    n_ctx: int = 8192
    n_threads: int = 2
    flash_attn: bool = False
    """llama.cpp's fused attention: prompts evaluated ~20% faster on this 2-core CPU
    (71/63 vs 58/53 tokens/s, a 300-token prompt, alternating runs), but its slightly other
    arithmetic turned two borderline gold answers (combo-agree-2/3, "probably the same
    serial") from "Yes" to "No" (gold 0.942 → 0.904), so it is off unless chosen. Its KV
    cache is laid out differently, so it is part of the prefix state's key."""
    seed: int = 7
    prefix_dir: Path | None = None
    """Where each purpose's evaluated prompt prefix is kept between processes
    (`graphs.llm_prefix`); None keeps it in memory only."""


class LlamaChatModel:
    """llama-cpp-python, one context per purpose, loaded on first use, one call at a time.

    llama.cpp keeps the tokens a context last evaluated and reuses the longest common
    prefix of the next prompt. Plans all start with the same system prompt and tool
    catalogue, drafts with the same drafting rules: giving each purpose its own context
    (the weights are memory-mapped once and shared) keeps both prefixes evaluated, so a
    plan after a draft re-reads only the question. The benchmark measured this against a
    single context with llama-cpp-python's RAM state cache, which copies ~300 MB of
    logits on every save and load (0.7 s a call). Across processes, each context starts
    from its purpose's prefix state on disk when there is one (`graphs.llm_prefix`).
    """

    def __init__(self, config: LlamaConfig) -> None:
        self.config = config
        self.name = Path(config.path).name
        self._contexts: dict[str, Any] = {}
        # Contexts share the two cores: calls are serialised, never interleaved.
        self._lock = threading.Lock()
        self.last = CompletionStats()
        self._saved: set[str] = set()
        self._state_paths: dict[str, Path | None] = {}
        self.restored: dict[str, int] = {}
        """Prompt tokens each purpose's context started with, read from disk."""
        self.load_ms: dict[str, float] = {}
        """How long each purpose's context took to create (and restore), whichever thread did it."""

    def load(self, purposes: Sequence[str] = ("plan", "draft")) -> None:
        """Create the contexts now (a warm-up); otherwise the first completion does. The lock is
        taken per context, so a completion waiting for the first runs before the second loads."""
        for purpose in purposes:
            with self._lock:
                self._context(purpose)

    def _context(self, purpose: str) -> Any:
        if purpose in self._contexts:
            return self._contexts[purpose]
        started = time.perf_counter()
        # A busy 2-core box with spinning OpenMP threads runs llama.cpp up to 30x slower.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from llama_cpp import Llama

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
            flash_attn=config.flash_attn,
            chat_format=config.chat_format,
            seed=config.seed,
            verbose=False,
        )
        # The file's name is worked out once per context, not on every call (it stats and hashes).
        folder = config.prefix_dir
        state = None if folder is None else llm_prefix.state_path(folder, config.path, purpose, config.n_ctx,
                                                                 flash_attn=config.flash_attn)
        self._state_paths[purpose] = state
        if state is not None:
            self.restored[purpose] = llm_prefix.restore(llm, state)
        self._contexts[purpose] = llm
        self.load_ms[purpose] = round((time.perf_counter() - started) * 1000, 1)
        return llm

    def _keep_prefix(self, purpose: str, llm: Any, stats: CompletionStats) -> None:
        """Write the context's state once per process and purpose, when the one on disk
        (if any) did not spare this call most of its prompt. A failure costs only speed."""
        state = self._state_paths.get(purpose)
        if state is None or purpose in self._saved:
            return
        if state.is_file() and not llm_prefix.worth_saving(stats.prompt_tokens, stats.prompt_evaluated):
            return
        self._saved.add(purpose)
        try:
            llm_prefix.save(llm, state)
        except OSError as exc:
            log.warning("could not keep the %s prompt prefix: %s", purpose, exc)

    def complete(self, messages: Sequence[Message], *, schema: dict[str, Any] | None = None,
                 max_tokens: int = 512, purpose: str = "default") -> str:
        kwargs: dict[str, Any] = {"temperature": 0.0, "max_tokens": max_tokens}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        import llama_cpp

        with self._lock:
            loading = time.perf_counter()
            llm = self._context(purpose)
            load_ms = (time.perf_counter() - loading) * 1000
            llama_cpp.llama_perf_context_reset(llm.ctx)
            started = time.perf_counter()
            out = llm.create_chat_completion(messages=list(messages), **kwargs)
            usage = out.get("usage", {})
            perf = llama_cpp.llama_perf_context(llm.ctx)
            self.last = CompletionStats(
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                seconds=time.perf_counter() - started,
                prompt_evaluated=perf.n_p_eval, prompt_ms=round(perf.t_p_eval_ms, 1),
                generation_ms=round(perf.t_eval_ms, 1), load_ms=round(load_ms, 1),
            )
            self._keep_prefix(purpose, llm, self.last)
        return out["choices"][0]["message"]["content"] or ""


def load_chat_model(*, factory: str | None, factory_arg: Any, path: Path | None, model_dir: Path,
                    chat_format: str | None, n_ctx: int, n_threads: int,
                    prefix_dir: Path | None = None, flash_attn: bool = False) -> ChatModel:
    """The planner model the settings name: a factory's (`module:callable`, called with
    `factory_arg`), a GGUF file, or the embedded planner (verified on first use)."""
    if factory:
        module, _, name = factory.partition(":")
        model: ChatModel = getattr(importlib.import_module(module), name)(factory_arg)
        return model
    from tools import models

    return LlamaChatModel(LlamaConfig(path=path or models.ensure("planner", model_dir), chat_format=chat_format,
                                      n_ctx=n_ctx, n_threads=n_threads, prefix_dir=prefix_dir,
                                      flash_attn=flash_attn))
