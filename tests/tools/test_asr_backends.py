"""Both ASR backends (faster-whisper, openai-whisper) on the same memos, with the real models:
the same words, each with its probability and times."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import tools.asr
from tests.fixtures.audio import JAPANESE_TEXT, MEMO_TEXT, ROBOT_TEXT, espeak_wav, flite_wav, normalise
from tools import asr_faster
from tools.context import ToolContext
from tools.registry import Registry, ToolSpec
from tools.runner import run_tool

pytestmark = pytest.mark.slow

MEMOS = {
    "flite slt": lambda d: flite_wav(MEMO_TEXT, d / "slt.wav", voice="slt"),
    "flite rms": lambda d: flite_wav(MEMO_TEXT, d / "rms.wav", voice="rms"),
    "espeak en": lambda d: espeak_wav(ROBOT_TEXT, d / "robot.wav"),
    "espeak ja": lambda d: espeak_wav(JAPANESE_TEXT, d / "ja.wav", voice="ja"),
}


@pytest.fixture(scope="module")
def spec(registry: Registry) -> ToolSpec:
    return registry.get("asr")


@pytest.fixture(scope="module")
def contexts(tool_ctx: ToolContext) -> dict[str, ToolContext]:
    out = {b: dataclasses.replace(tool_ctx, asr_backend=b) for b in ("faster", "openai")}
    for ctx in out.values():
        tools.asr.warm_up(ctx)
    return out


@pytest.fixture(scope="module")
def memo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("memos")


def transcribe(spec: ToolSpec, path: Path, ctx: ToolContext) -> dict[str, Any]:
    run = run_tool(spec, path, {}, ctx)
    assert run.ok, f"{run.error_kind}: {run.error}"
    assert run.result is not None
    return run.result


def test_faster_whisper_is_the_default(tool_ctx: ToolContext) -> None:
    assert tool_ctx.asr_backend == "faster"


@pytest.mark.parametrize("memo", list(MEMOS))
def test_both_backends_hear_the_same_words(
    spec: ToolSpec, contexts: dict[str, ToolContext], memo_dir: Path, memo: str
) -> None:
    path = MEMOS[memo](memo_dir)

    faster = transcribe(spec, path, contexts["faster"])
    openai = transcribe(spec, path, contexts["openai"])

    assert faster["language"] == openai["language"]
    assert normalise(faster["text"]) == normalise(openai["text"]), (faster["text"], openai["text"])
    words = {name: [w["text"] for s in r["segments"] for w in s["words"]] for name, r in
             (("faster", faster), ("openai", openai))}
    assert words["faster"] == words["openai"]
    assert faster["confidence"] == pytest.approx(openai["confidence"], abs=0.1)


@pytest.mark.parametrize("backend", ["faster", "openai"])
def test_segments_carry_their_words_with_probabilities(
    spec: ToolSpec, contexts: dict[str, ToolContext], memo_dir: Path, backend: str
) -> None:
    path = MEMOS["flite slt"](memo_dir)

    result = transcribe(spec, path, contexts[backend])

    assert result["segments"]
    for seg in result["segments"]:
        assert seg["words"], seg
        assert normalise("".join(w["text"] + " " for w in seg["words"])) == normalise(seg["text"])
        for w in seg["words"]:
            assert 0 <= w["probability"] <= 1
            assert seg["start"] - 0.05 <= w["start"] <= w["end"] <= result["duration_s"]
        assert 0 < seg["confidence"] <= min(1.0, max(w["probability"] for w in seg["words"]))
    unsure = [w for s in result["segments"] for w in s["words"] if w["probability"] < tools.asr.LOW_WORD_PROBABILITY]
    assert ("Unsure words:" in result["summary"]) == bool(unsure)


def test_faster_whisper_loads_the_embedded_ctranslate2_files(tool_ctx: ToolContext) -> None:
    folder = asr_faster.model_folder(tool_ctx)

    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert (folder / "model.bin").resolve() == (Path(tool_ctx.model_dir) / "whisper-base-ct2.bin").resolve()
    assert asr_faster.model_folder(tool_ctx) == folder  # a second call reuses it


def test_a_short_memo_is_encoded_once_for_language_detection_and_decoding(
    spec: ToolSpec, contexts: dict[str, ToolContext], memo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Detection and the first window encode the same 30 s: the second encoding is the first's output."""
    path = MEMOS["flite rms"](memo_dir)
    ctx = contexts["faster"]
    told = run_tool(spec, path, {"language": "en"}, ctx).result  # no detection: for comparison
    assert told is not None
    whisper = asr_faster.model(ctx)
    encoder = whisper.model
    calls: list[tuple[int, ...]] = []

    class CountingEncoder:  # ctranslate2's Whisper cannot be patched in place; wrap it
        def __getattr__(self, name: str) -> Any:
            return getattr(encoder, name)

        def encode(self, features: Any, **kwargs: Any) -> Any:
            calls.append(tuple(features.shape))
            return encoder.encode(features, **kwargs)

    monkeypatch.setattr(whisper, "model", CountingEncoder())
    monkeypatch.setattr(whisper, "_last", None)
    auto = transcribe(spec, path, ctx)

    assert calls == [(1, 80, 3000)]
    assert auto["language"] == "en"
    assert auto["text"] == told["text"]
