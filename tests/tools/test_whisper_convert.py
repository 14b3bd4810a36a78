"""The CTranslate2 → openai-whisper conversion, on the real embedded Whisper base weights."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
import whisper

from tools import models, whisper_convert
from tools.context import ToolContext

pytestmark = pytest.mark.slow

WHISPER_BASE_DIMS = {
    "n_mels": 80,
    "n_audio_ctx": 1500,
    "n_audio_state": 512,
    "n_audio_head": 8,
    "n_audio_layer": 6,
    "n_vocab": 51865,
    "n_text_ctx": 448,
    "n_text_state": 512,
    "n_text_head": 8,
    "n_text_layer": 6,
}


@pytest.fixture(scope="module")
def ctx(tool_ctx: ToolContext, tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    """A context with its own model folder, so the conversion really happens here."""
    return dataclasses.replace(tool_ctx, model_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def checkpoint(ctx: ToolContext) -> Path:
    return whisper_convert.ensure_checkpoint(ctx)


def config_json() -> Path:
    return models.package_dir(whisper_convert.CONFIG_PACKAGE) / "data" / "config.json"


def test_checkpoint_has_whisper_base_dims(checkpoint: Path) -> None:
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert saved["dims"] == WHISPER_BASE_DIMS
    assert saved["model_state_dict"]["decoder.token_embedding.weight"].dtype == torch.float32


def test_checkpoint_loads_with_openai_whisper(checkpoint: Path) -> None:
    model = whisper.load_model(str(checkpoint), device="cpu")  # strict load_state_dict
    assert model.is_multilingual
    assert model.dims.n_audio_state == 512 and model.dims.n_text_layer == 6
    assert model.dims.n_vocab == 51865


def test_alignment_heads_from_config_are_applied(checkpoint: Path) -> None:
    expected = json.loads(config_json().read_text())["alignment_heads"]
    heads = whisper_convert.read_alignment_heads(checkpoint)
    assert heads == expected

    model = whisper.load_model(str(checkpoint), device="cpu")
    whisper_convert.apply_alignment_heads(model, heads)
    assert sorted(model.alignment_heads.to_dense().nonzero().tolist()) == sorted(expected)


def test_conversion_is_cached(ctx: ToolContext, checkpoint: Path) -> None:
    before = checkpoint.stat().st_mtime_ns
    again = whisper_convert.ensure_checkpoint(ctx)
    assert again == checkpoint
    assert again.stat().st_mtime_ns == before


def test_changed_checkpoint_is_rebuilt(ctx: ToolContext, checkpoint: Path) -> None:
    checkpoint.write_bytes(b"damaged")
    rebuilt = whisper_convert.ensure_checkpoint(ctx)
    assert rebuilt == checkpoint
    assert torch.load(rebuilt, map_location="cpu", weights_only=True)["dims"] == WHISPER_BASE_DIMS


def test_truncated_source_is_refused(tool_ctx: ToolContext, tmp_path: Path) -> None:
    source = models.ensure("asr", tool_ctx.model_dir)
    cut = tmp_path / "model.bin"
    cut.write_bytes(source.read_bytes()[: 1 << 20])
    with pytest.raises(whisper_convert.ConversionError, match="ends in the middle"):
        whisper_convert.convert(cut, config_json(), tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()
