"""A context's evaluated prompt prefix kept on disk, so a fresh process does not evaluate it again.

Every plan starts with the same system prompt and tool catalogue (~900 tokens), every
draft with the same drafting rules. A warm service keeps them evaluated in its contexts;
a fresh process (`jimoku ask`, a restarted service, a new worker) used to evaluate them
again at ~60 tokens/s on two cores: ~15 s before its first plan. llama.cpp can write a
context's state (its KV cache and the tokens it holds) to a file and read it back
(`llama_state_save_file` / `llama_state_load_file`); ~30 kB a token for the 1.5B model,
read back in milliseconds from the page cache.

The restored tokens are only a starting point: llama-cpp-python compares them with the next
prompt and evaluates from the first token that differs, exactly as it does within one
process. A prompt whose prefix changed (a plugin added a tool card) still gets the right
answer, just without the saving, and its state is written anew. The file name carries
what makes a state valid: the model file (name, size, mtime), the context size and the
llama-cpp-python version.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
from pathlib import Path
from typing import Any

from tools.atomic import atomic_path

log = logging.getLogger(__name__)

STALE_FRACTION = 0.5
"""A call that had to evaluate more than this share of its prompt (and over MIN_TOKENS of
it) found no useful prefix: its state replaces the file."""
MIN_TOKENS = 256


def state_path(folder: Path, model: Path, purpose: str, n_ctx: int, *, flash_attn: bool = False) -> Path:
    """Where `purpose`'s prefix state for this model, context size and attention kind lives."""
    import llama_cpp

    stat = Path(model).stat()
    key = f"{Path(model).name}:{stat.st_size}:{stat.st_mtime_ns}:{n_ctx}:{llama_cpp.__version__}"
    key += ":fa" if flash_attn else ""  # the old name stays the name of a state without it
    return Path(folder) / f"{purpose}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.state"


def restore(llm: Any, path: Path) -> int:
    """Load the state at `path` into the `llama_cpp.Llama` context `llm`; the tokens restored
    (0 when there is no file or it does not load: the context is then as new)."""
    import llama_cpp

    if not path.is_file():
        return 0
    capacity = llm.n_ctx()
    tokens = (llama_cpp.llama_token * capacity)()
    count = ctypes.c_size_t(0)
    try:
        ok = llama_cpp.llama_state_load_file(llm.ctx, str(path).encode(), tokens, capacity, ctypes.byref(count))
    except Exception:  # a bad file must never stop the model from answering
        ok = False
    if not ok or count.value == 0:
        log.warning("prompt prefix state %s did not load; evaluating from scratch", path)
        llm.reset()
        llm._ctx.kv_cache_clear()
        return 0
    n = count.value
    llm.input_ids[:n] = tokens[:n]
    llm.n_tokens = n
    # The restored logits are not those of a live decode: evaluate at least one token.
    llm._requires_eval = True
    return n


def save(llm: Any, path: Path) -> None:
    """Write the context's state (the tokens it holds and their KV cache) to `path`, atomically."""
    import llama_cpp

    n = llm.n_tokens
    tokens = (llama_cpp.llama_token * n)(*llm.input_ids[:n].tolist())
    with atomic_path(path) as tmp:
        if not llama_cpp.llama_state_save_file(llm.ctx, str(tmp).encode(), tokens, n):
            raise OSError(f"llama.cpp could not write {tmp}")


def worth_saving(prompt_tokens: int, evaluated: int) -> bool:
    """The call evaluated most of a long prompt: the prefix on file (if any) did not serve it."""
    return evaluated > MIN_TOKENS and evaluated > STALE_FRACTION * prompt_tokens
