"""A prompt prefix evaluated by one process is read back by the next (the real 1.5B model):
the second context evaluates only what differs, answers exactly as a context without the
file does, and a damaged file only costs the saving."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings
from graphs import llm_prefix
from graphs.llm import LlamaChatModel, LlamaConfig
from graphs.prompts import PLAN_SYSTEM
from tools import models

pytestmark = pytest.mark.slow

SYSTEM = PLAN_SYSTEM.format(tool_cards="- ocr: reads printed text in images and documents.\n"
                                       "- asr: transcribes speech in audio files.", examples="")


def ask(prefix_dir: Path | None, model: Path, question: str) -> tuple[str, LlamaChatModel]:
    llm = LlamaChatModel(LlamaConfig(path=model, n_ctx=2048, prefix_dir=prefix_dir))
    reply = llm.complete([{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
                         max_tokens=24, purpose="plan")
    return reply, llm


def test_a_fresh_context_starts_from_the_prefix_the_last_process_kept(tmp_path: Path, settings: Settings) -> None:
    model = models.ensure("planner", settings.model_dir)
    folder = tmp_path / "prefix-state"
    _, first = ask(folder, model, "Question: what is on the plate?")
    state = llm_prefix.state_path(folder, model, "plan", 2048)
    assert first.restored == {"plan": 0} and state.is_file()

    reply, second = ask(folder, model, "Question: what does the memo say?")
    assert second.restored["plan"] > 0
    # Only the question's own tokens (and the reply's template) were evaluated.
    assert second.last.prompt_evaluated < 0.2 * second.last.prompt_tokens
    plain, _ = ask(None, model, "Question: what does the memo say?")
    assert reply == plain

    state.write_bytes(b"not a llama.cpp state")
    damaged_reply, third = ask(folder, model, "Question: what does the memo say?")
    assert third.restored["plan"] == 0 and damaged_reply == plain
    assert third.last.prompt_evaluated == third.last.prompt_tokens


def test_a_prefix_kept_without_flash_attention_is_never_read_with_it(tmp_path: Path, settings: Settings) -> None:
    """Flash attention lays the KV cache out differently: its state has its own file."""
    model = models.ensure("planner", settings.model_dir)
    folder = tmp_path / "prefix-state"
    ask(folder, model, "Question: what is on the plate?")
    assert llm_prefix.state_path(folder, model, "plan", 2048).is_file()
    fused = LlamaChatModel(LlamaConfig(path=model, n_ctx=2048, prefix_dir=folder, flash_attn=True))
    fused.complete([{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Question: what is on the plate?"}],
                   max_tokens=24, purpose="plan")
    assert fused.restored == {"plan": 0}
    assert llm_prefix.state_path(folder, model, "plan", 2048, flash_attn=True).is_file()
