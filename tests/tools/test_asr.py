"""The ASR tool on spoken memos made at test time, with the real Whisper, through the runner."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

import tools.asr
from tests.fixtures.audio import (
    JAPANESE_TEXT,
    MEMO_TEXT,
    ROBOT_TEXT,
    clip,
    espeak_wav,
    flite_wav,
    noise,
    normalise,
    silence,
    squashed,
    transcode,
    truncate,
    write_garbage_flac,
    write_random_after_wav_header,
    write_unknown_codec_wav,
)
from tools.context import ToolContext
from tools.files import sniff_kind
from tools.registry import FileKind, Registry, ToolSpec
from tools.runner import ToolRun, run_tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spec(registry: Registry, tool_ctx: ToolContext) -> ToolSpec:
    tools.asr.warm_up(tool_ctx)  # load once for the module, so timings below are warm
    return registry.get("asr")


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="module")
def memo(audio_dir: Path) -> Path:
    return flite_wav(MEMO_TEXT, audio_dir / "memo.wav", voice="slt")


def run(spec: ToolSpec, path: Path, ctx: ToolContext, **args: Any) -> ToolRun:
    return run_tool(spec, path, args, ctx)


def transcribe(spec: ToolSpec, path: Path, ctx: ToolContext, **args: Any) -> dict[str, Any]:
    """Run ASR through the runner and return its result, failing loudly if it errored."""
    outcome = run(spec, path, ctx, **args)
    assert outcome.ok, f"{outcome.error_kind}: {outcome.error}"
    assert outcome.result is not None
    return outcome.result


def assert_memo_heard(text: str) -> None:
    words = normalise(text)
    assert "serial number" in words, text
    assert "overheating" in words, text
    assert "4471" in squashed(text), text
    assert "200" in squashed(text), text


def assert_nothing_heard(result: dict[str, Any]) -> None:
    assert result["text"] == ""
    assert result["segments"] == []
    assert result["confidence"] is None
    assert any("no speech found" in w for w in result["warnings"]), result["warnings"]
    assert result["summary"].startswith("No speech found")


# --- the tool card -----------------------------------------------------------------------


def test_card_tells_the_planner_what_asr_does(spec: ToolSpec) -> None:
    card = spec.card()
    assert card["accepts"] == ["audio"]
    assert card["description"].startswith("Transcribe speech in voice memos")
    assert card["arguments"]["properties"]["language"]["enum"] == ["auto", "en", "ja"]
    assert spec.max_concurrency == 1 and spec.timeout == 300


def test_unsupported_language_is_an_input_error(spec: ToolSpec, memo: Path, tool_ctx: ToolContext) -> None:
    outcome = run(spec, memo, tool_ctx, language="fr")
    assert outcome.error_kind == "input"
    assert "language" in outcome.error


# --- speech ------------------------------------------------------------------------------


def test_flite_memo_is_transcribed(spec: ToolSpec, memo: Path, tool_ctx: ToolContext) -> None:
    result = transcribe(spec, memo, tool_ctx)
    assert_memo_heard(result["text"])
    assert result["language"] == "en"
    assert 4.0 < result["duration_s"] < 7.0
    assert 0.3 < result["confidence"] <= 1.0
    assert result["warnings"] == []
    for seg in result["segments"]:
        assert 0.0 <= seg["start"] < seg["end"] <= result["duration_s"]
        assert 0.0 <= seg["confidence"] <= 1.0
    assert result["summary"].startswith("Transcript (en, ")
    assert "overheating" in result["summary"]


def test_language_can_be_given(spec: ToolSpec, memo: Path, tool_ctx: ToolContext) -> None:
    result = transcribe(spec, memo, tool_ctx, language="en")
    assert_memo_heard(result["text"])
    assert result["language"] == "en"


def test_robotic_espeak_memo_is_transcribed(spec: ToolSpec, audio_dir: Path, tool_ctx: ToolContext) -> None:
    path = espeak_wav(ROBOT_TEXT, audio_dir / "robot.wav")
    words = normalise(transcribe(spec, path, tool_ctx)["text"]).split()
    assert {"check", "pump", "line"} <= set(words), words
    assert "3" in words or "three" in words, words


def test_japanese_memo_is_detected_and_transcribed(
    spec: ToolSpec, audio_dir: Path, tool_ctx: ToolContext
) -> None:
    path = espeak_wav(JAPANESE_TEXT, audio_dir / "ja.wav", voice="ja")
    result = transcribe(spec, path, tool_ctx)
    assert result["language"] == "ja"
    assert "温度" in result["text"] or "おんど" in result["text"], result["text"]
    assert "高い" in result["text"] or "たかい" in result["text"], result["text"]


@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".ogg", ".flac"])
def test_each_format_gives_the_same_words(
    spec: ToolSpec, memo: Path, audio_dir: Path, tool_ctx: ToolContext, suffix: str
) -> None:
    path = transcode(memo, audio_dir / f"memo{suffix}")
    assert sniff_kind(path) is FileKind.AUDIO
    assert_memo_heard(transcribe(spec, path, tool_ctx)["text"])


def test_damaged_flac_transcribes_what_is_left(
    spec: ToolSpec, memo: Path, audio_dir: Path, tool_ctx: ToolContext
) -> None:
    whole = transcode(memo, audio_dir / "whole.flac")
    cut = truncate(whole, audio_dir / "cut.flac", keep=0.4)
    result = transcribe(spec, cut, tool_ctx)
    assert "serial" in normalise(result["text"])
    assert any("damaged" in w for w in result["warnings"]), result["warnings"]


# --- inputs that hold no speech: empty result, with a warning ----------------------------


def test_tenth_of_a_second_is_no_speech(
    spec: ToolSpec, memo: Path, tmp_path: Path, tool_ctx: ToolContext
) -> None:
    result = transcribe(spec, clip(memo, tmp_path / "blip.wav", 0.1), tool_ctx)
    assert_nothing_heard(result)
    assert "0.1 s long" in " ".join(result["warnings"])


def test_silence_is_no_speech(spec: ToolSpec, tmp_path: Path, tool_ctx: ToolContext) -> None:
    result = transcribe(spec, silence(tmp_path / "silence.wav", 3), tool_ctx)
    assert_nothing_heard(result)
    assert result["duration_s"] == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("make", ["white noise", "random bytes after a WAV header"])
def test_noise_is_not_made_into_words(
    spec: ToolSpec, tmp_path: Path, tool_ctx: ToolContext, make: str
) -> None:
    if make == "white noise":
        path = noise(tmp_path / "hall.wav", 3)
    else:  # a PCM header makes any bytes valid samples: loud hiss, not a decoding error
        path = write_random_after_wav_header(tmp_path / "hiss.wav")
    result = transcribe(spec, path, tool_ctx)
    assert len(normalise(result["text"]).split()) <= 3, result["text"]
    assert result["warnings"], "dropping or finding nothing must be said"


# --- inputs refused with a reason ---------------------------------------------------------


def refused(spec: ToolSpec, path: Path, ctx: ToolContext) -> str:
    outcome = run(spec, path, ctx)
    assert not outcome.ok
    assert outcome.error_kind == "input", outcome.error
    assert outcome.error is not None
    return outcome.error


def test_empty_file_is_refused(spec: ToolSpec, tmp_path: Path, tool_ctx: ToolContext) -> None:
    path = tmp_path / "memo.wav"
    path.write_bytes(b"")
    assert "empty" in refused(spec, path, tool_ctx)


def test_text_named_wav_is_refused(spec: ToolSpec, tmp_path: Path, tool_ctx: ToolContext) -> None:
    path = tmp_path / "memo.wav"
    path.write_text("The serial number is AX4471.\n")
    assert "plain text" in refused(spec, path, tool_ctx)


def test_image_is_refused(spec: ToolSpec, tmp_path: Path, tool_ctx: ToolContext) -> None:
    path = tmp_path / "photo.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1",
         "-f", "image2", "-c:v", "png", str(path)],
        check=True,
    )  # fmt: skip
    assert "not audio" in refused(spec, path, tool_ctx)


@pytest.mark.parametrize("damage", ["unknown codec", "garbage flac", "first 300 bytes of an mp3"])
def test_corrupt_audio_is_refused(
    spec: ToolSpec, memo: Path, tmp_path: Path, tool_ctx: ToolContext, damage: str
) -> None:
    if damage == "unknown codec":
        path = write_unknown_codec_wav(tmp_path / "memo.wav")
    elif damage == "garbage flac":
        path = write_garbage_flac(tmp_path / "memo.flac")
    else:
        path = truncate(transcode(memo, tmp_path / "whole.mp3"), tmp_path / "memo.mp3", keep_bytes=300)
    assert sniff_kind(path) is FileKind.AUDIO  # the upload check lets it through
    error = refused(spec, path, tool_ctx)
    assert error.startswith("the audio could not be decoded: ")
    assert "send a WAV, MP3" in error


def test_header_without_samples_is_refused(
    spec: ToolSpec, memo: Path, tmp_path: Path, tool_ctx: ToolContext
) -> None:
    path = truncate(memo, tmp_path / "header.wav", keep_bytes=44)
    assert "no audio samples" in refused(spec, path, tool_ctx)


def test_recording_over_the_limit_is_refused(spec: ToolSpec, memo: Path, tool_ctx: ToolContext) -> None:
    short_limit = dataclasses.replace(tool_ctx, max_audio_seconds=2)
    error = refused(spec, memo, short_limit)
    assert "longer than 2 s" in error
