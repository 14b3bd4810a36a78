"""Speech recognition with Whisper base (multilingual) on CPU, for English and Japanese.

Two backends run the same embedded weights (`ctx.asr_backend`, `JIMOKU_ASR_BACKEND`):
`faster` (the default), faster-whisper on CTranslate2 (float32; int8 by setting), which loads the embedded
CTranslate2 files as they are (`tools.asr_faster`); and `openai`, openai-whisper on torch,
from a checkpoint converted once (`tools.whisper_convert`). Both decode greedily with the
same options and give the same words on the test memos; faster-whisper is about 2× faster
in int8 and 1.7× in float32 (bench/perception.py). Each model loads lazily, once per process. Audio is
decoded by ffmpeg, so anything ffmpeg reads works; WAV, MP3, M4A, OGG/Opus and FLAC are
what the service promises.

Every segment carries its words with their probabilities, so a reader (or the reviewer
page) can see which words Whisper was unsure of; they also make the confidence.

Whisper invents text on silence and noise ("Thank you.", subtitles credits), so silent
or very short recordings never reach the model, and segments the model itself rates as
probably not speech are dropped; both are reported in `warnings`, never hidden.
"""

from __future__ import annotations

import math
import re
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools import asr_faster
from tools.context import ToolContext
from tools.errors import ToolInputError
from tools.files import sniff_kind
from tools.registry import FileKind, ToolResult, tool

if TYPE_CHECKING:
    from whisper.model import Whisper

SAMPLE_RATE = 16_000
"""Whisper's input rate; ffmpeg resamples to it."""
MIN_SECONDS = 0.2
"""Shorter recordings hold no word; they are answered with an empty result."""
SILENCE_RMS = 1e-3
"""RMS below this (-60 dBFS) counts as silence."""
SUPPORTED_LANGUAGES = ("en", "ja")
# Whisper's own rule for "this window is not speech" (transcribe's defaults), applied
# here rather than inside whisper.transcribe so that what is dropped can be reported.
NO_SPEECH_PROB = 0.6
LOW_AVG_LOGPROB = -1.0
FFMPEG_TIMEOUT_S = 120
SUMMARY_MAX_CHARS = 1500
LOW_WORD_PROBABILITY = 0.5
"""Words Whisper gave less than this are named in the summary as unsure."""
ACCEPTED_AUDIO = "send a WAV, MP3, M4A, OGG/Opus or FLAC recording"

RawSegment = dict[str, Any]
"""A segment as `whisper.transcribe` returns it."""


class Word(BaseModel):
    """One word as heard, with Whisper's probability for it."""

    text: str
    start: float = Field(description="Start, in seconds from the beginning.")
    end: float = Field(description="End, in seconds from the beginning.")
    probability: float = Field(ge=0, le=1)


class Segment(BaseModel):
    """A stretch of the recording and what was said in it."""

    start: float = Field(description="Start, in seconds from the beginning.")
    end: float = Field(description="End, in seconds from the beginning.")
    text: str
    confidence: float = Field(
        description="Geometric mean of the word probabilities (weighted by characters), times the "
        "probability that this is speech; exp(average token log-probability) in place of the words' "
        "when it has none."
    )
    words: list[Word] = Field(default_factory=list)


class AsrResult(ToolResult):
    """A transcript with its segments; empty (with a warning) when nothing was said."""

    text: str = ""
    language: str | None = None
    """Language the speech was transcribed as; None when no speech was found."""
    duration_s: float
    segments: list[Segment] = Field(default_factory=list)


def warm_up(ctx: ToolContext) -> None:
    """Load the configured backend's model now (converting it for openai-whisper, if needed),
    so the first memo does not wait for it."""
    if ctx.asr_backend == "openai":
        _model(ctx)
    else:
        asr_faster.model(ctx)


@tool(accepts=["audio"], produces="transcript", resource="cpu", max_concurrency=1, timeout=300, version="3",
      warm_up=warm_up)
def asr(file: Path, ctx: ToolContext, language: Literal["auto", "en", "ja"] = "auto") -> AsrResult:
    """Transcribe speech in voice memos and recordings: spoken serial numbers, machine names, instructions; English and Japanese.

    Returns the transcript with timed segments and words, and a confidence for each. Silence, noise
    and clips too short to hold a word give an empty transcript and a warning.

    Args:
        file: The recording (WAV, MP3, M4A, OGG/Opus or FLAC).
        language: "en" or "ja" when the language is known; "auto" detects which of the two is spoken.
    """
    kind = sniff_kind(file)
    if kind is not FileKind.AUDIO:
        raise ToolInputError(f"file {file.name!r} is {kind.value}, not audio; {ACCEPTED_AUDIO}")
    audio, decode_warnings = _decode(file, ctx.max_audio_seconds)
    duration = round(audio.size / SAMPLE_RATE, 2)
    if duration > ctx.max_audio_seconds:
        raise ToolInputError(
            f"the recording is longer than {ctx.max_audio_seconds:g} s, the limit for speech "
            "recognition; send a shorter clip or split the recording"
        )
    if duration < MIN_SECONDS:
        too_short = f"no speech found: the recording is only {duration:g} s long"
        return _nothing_heard(duration, [*decode_warnings, too_short])
    if _rms(audio) < SILENCE_RMS:
        return _nothing_heard(duration, [*decode_warnings, "no speech found: the recording is silent"])

    with _inference_lock:
        # openai-whisper hooks its KV cache onto the shared model during a decode: one at a time.
        if ctx.asr_backend == "openai":
            model = _model(ctx)
            _set_threads(ctx.torch_threads)
            chosen, language_warnings = _choose_language(lambda: _language_probabilities(model, audio), language)
            raw = _transcribe(model, audio, chosen)
        else:
            chosen, language_warnings = _choose_language(
                lambda: asr_faster.language_probabilities(ctx, audio), language
            )
            raw = asr_faster.transcribe(ctx, audio, chosen)
    kept, dropped = _split_hallucinations(raw)
    warnings = decode_warnings + _dropped_warnings(dropped)
    if not kept:
        return _nothing_heard(duration, [*warnings, "no speech found"])
    return _result(kept, chosen, duration, language_warnings + warnings)


# --- decoding --------------------------------------------------------------------------


def _decode(file: Path, max_seconds: float) -> tuple[np.ndarray, list[str]]:
    """Mono float32 samples at 16 kHz, and warnings about damaged parts.

    Decoding stops one second past the limit, so an hour-long upload never fills memory
    just to be refused.
    """
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-threads", "0",
        "-i", f"file:{file}",
        "-t", f"{max_seconds + 1:.3f}",
        "-f", "s16le", "-ac", "1", "-acodec", "pcm_s16le", "-ar", str(SAMPLE_RATE), "-",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolInputError(
            f"the audio could not be decoded within {FFMPEG_TIMEOUT_S} s; {ACCEPTED_AUDIO}"
        ) from None
    errors = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        reason = _ffmpeg_reason(errors)
        raise ToolInputError(f"the audio could not be decoded: {reason}; {ACCEPTED_AUDIO}")
    if len(proc.stdout) < 2:
        reason = "the file holds no audio samples"
        raise ToolInputError(f"the audio could not be decoded: {reason}; {ACCEPTED_AUDIO}")
    samples = np.frombuffer(proc.stdout, dtype=np.int16).astype(np.float32) / 32768.0
    # ffmpeg exits 0 after skipping frames it could not decode; say so.
    damaged = "part of the audio was damaged and could not be decoded; the rest was transcribed"
    return samples, [damaged] if errors.strip() else []


def _ffmpeg_reason(stderr: str) -> str:
    """The last line ffmpeg wrote, without its file name or `[demuxer @ 0x…]` prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "ffmpeg gave no reason"
    reason = re.sub(r"^\[[^\]]*\]\s*", "", lines[-1])
    if reason.startswith("file:") and ": " in reason:
        reason = reason.split(": ", 1)[1]
    return reason


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


# --- the model -------------------------------------------------------------------------

_models: dict[Path, Whisper] = {}
_load_lock = threading.Lock()
_inference_lock = threading.Lock()


def _model(ctx: ToolContext) -> Whisper:
    """The Whisper model for `ctx.model_dir`, converted and loaded on first use."""
    key = Path(ctx.model_dir)
    model = _models.get(key)
    if model is not None:
        return model
    with _load_lock:
        if key not in _models:
            _models[key] = _load(ctx)
        return _models[key]


def _load(ctx: ToolContext) -> Whisper:
    import whisper

    from tools import whisper_convert

    checkpoint = whisper_convert.ensure_checkpoint(ctx)
    model = whisper.load_model(str(checkpoint), device="cpu")
    whisper_convert.apply_alignment_heads(model, whisper_convert.read_alignment_heads(checkpoint))
    return model.eval()


def _set_threads(threads: int) -> None:
    import torch

    # Process-wide in torch; Ultralytics changes it too, so set it before every call.
    torch.set_num_threads(max(1, threads))


def _choose_language(detect: Callable[[], dict[str, float]], requested: str) -> tuple[str, list[str]]:
    """The language to transcribe as: the requested one, or the likelier of en/ja.

    Whisper base guesses among 99 languages and often picks a wrong one on short or
    synthetic speech; this tool serves English and Japanese only. `detect` gives
    Whisper's probability for each language (asked only when `requested` is "auto").
    """
    if requested != "auto":
        return requested, []
    probs = detect()
    chosen = max(SUPPORTED_LANGUAGES, key=lambda lang: probs.get(lang, 0.0))
    top = max(probs, key=probs.__getitem__)
    if top in SUPPORTED_LANGUAGES:
        return chosen, []
    from whisper.tokenizer import LANGUAGES as names

    return chosen, [(
        f"the speech sounded most like {names.get(top, top).title()} (p={probs[top]:.2f}); "
        f"transcribed as {names[chosen].title()}, the closer of the two supported languages"
    )]


def _language_probabilities(model: Whisper, audio: np.ndarray) -> dict[str, float]:
    import whisper

    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels)
    _, probs = model.detect_language(mel)
    return probs


def _transcribe(model: Whisper, audio: np.ndarray, language: str) -> list[RawSegment]:
    import whisper

    return whisper.transcribe(
        model,
        audio,
        language=language,
        task="transcribe",
        temperature=0.0,  # deterministic: no sampling fallback
        condition_on_previous_text=False,  # stops one bad window from derailing the next
        no_speech_threshold=None,  # filtered in _split_hallucinations, with a warning
        fp16=False,
        word_timestamps=True,
        verbose=None,
    )["segments"]


# --- shaping the result ----------------------------------------------------------------


def _split_hallucinations(segments: list[RawSegment]) -> tuple[list[RawSegment], list[RawSegment]]:
    """Segments to keep, and those Whisper itself rates as noise with a weak guess."""
    kept: list[RawSegment] = []
    dropped: list[RawSegment] = []
    for seg in segments:
        if not seg["text"].strip():
            continue
        noise = seg["no_speech_prob"] > NO_SPEECH_PROB and seg["avg_logprob"] < LOW_AVG_LOGPROB
        (dropped if noise else kept).append(seg)
    return kept, dropped


def _dropped_warnings(dropped: list[RawSegment]) -> list[str]:
    return [
        f"dropped {seg['start']:.1f}–{seg['end']:.1f} s: it sounded like noise rather than "
        f"speech, and Whisper's guess {seg['text'].strip()!r} is likely invented"
        for seg in dropped
    ]


def _segment(seg: RawSegment, duration: float) -> Segment:
    # Whisper's timestamps are quantised and the last one often lies past the end.
    words = [
        Word(
            text=w["word"].strip(),
            start=round(min(w["start"], duration), 2),
            end=round(min(w["end"], duration), 2),
            probability=round(min(1.0, max(0.0, w["probability"])), 3),
        )
        for w in seg.get("words") or ()
        if w["word"].strip()
    ]
    if words:  # geometric, so one misheard word (a serial number's) pulls the segment down
        total = sum(len(w.text) for w in words)
        heard = math.exp(sum(len(w.text) * math.log(max(w.probability, 1e-6)) for w in words) / total)
    else:
        heard = min(1.0, math.exp(seg["avg_logprob"]))
    confidence = heard * (1.0 - seg["no_speech_prob"])
    return Segment(
        start=round(min(seg["start"], duration), 2),
        end=round(min(seg["end"], duration), 2),
        text=seg["text"].strip(),
        confidence=round(min(1.0, max(0.0, confidence)), 3),
        words=words,
    )


def _result(raw: list[RawSegment], language: str, duration: float, warnings: list[str]) -> AsrResult:
    segments = [_segment(seg, duration) for seg in raw]
    text = "".join(seg["text"] for seg in raw).strip()
    confidence = _weighted_confidence(segments)
    shown = text if len(text) <= SUMMARY_MAX_CHARS else text[:SUMMARY_MAX_CHARS] + "…"
    summary = f'Transcript ({language}, {duration:.1f} s, confidence {confidence:.2f}): "{shown}"'
    unsure = [f'"{w.text}" ({w.probability:.2f})' for s in segments for w in s.words
              if w.probability < LOW_WORD_PROBABILITY]
    if unsure:
        summary += "\nUnsure words: " + ", ".join(unsure[:20])
    return AsrResult(
        summary=summary,
        confidence=confidence,
        warnings=warnings,
        text=text,
        language=language,
        duration_s=duration,
        segments=segments,
    )


def _weighted_confidence(segments: list[Segment]) -> float:
    """Mean segment confidence, weighted by segment length (equal weights if all are 0 s)."""
    weights = [max(seg.end - seg.start, 0.0) for seg in segments]
    if sum(weights) == 0:
        weights = [1.0] * len(segments)
    total = sum(w * seg.confidence for w, seg in zip(weights, segments, strict=False))
    return round(total / sum(weights), 3)


def _nothing_heard(duration: float, warnings: list[str]) -> AsrResult:
    return AsrResult(
        summary=f"No speech found in {duration:.1f} s of audio.",
        confidence=None,
        warnings=warnings,
        duration_s=duration,
    )
