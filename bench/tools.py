"""Per tool: warm latency through the service (`POST /v1/tools/{name}`) vs the library alone.

The library side calls what the tool calls, with the same options, in a loop:
- ocr: `pytesseract.image_to_data` on the grayscale image with the tool's lang
  (eng+jpn) and config (`--psm 3 -c thresholding_method=N`, N chosen as the tool does);
- detect: `YOLO(model).predict` on the decoded image, same confidence and classes;
- asr: `whisper.load_audio` + language detection (en/ja) + `whisper.transcribe` with the
  tool's options (temperature 0, no conditioning on previous text, fp32).
The service side includes the upload, file sniffing, decoding, the runner's thread and
the JSON response. Calls alternate service/direct so that drift in the machine's load
hits both alike.
"""

from __future__ import annotations

import os
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.inputs import Inputs
from bench.report import Row, Section
from bench.stats import fmt_ms, ratio, summary_ms
from tests.fixtures.server import Server
from tools.context import ToolContext

TARGET = 1.10
NOTES = [
    "POST /v1/tools/{name} (app/api/routes/tools.py, call_tool) calls tools.runner.run_tool directly and never "
    "consults the result cache: only graph steps are cached (graphs.nodes.execute), so every service call "
    "here does the full tool work",
    "the direct side runs torch (detect, ASR) with ctx.torch_threads = 2, as the tools set it; whether the "
    "service really gets its 2 threads is the 'service threads' row",
]


def direct_ocr(path: Path, ctx: ToolContext) -> Callable[[], None]:
    """Tesseract on the grayscale page, as tools/ocr.py calls it (one pass: the text is large)."""
    import pytesseract
    from pytesseract import Output

    from tools.images import load_image
    from tools.ocr import _thresholding_for  # the tool's own choice of binarization

    gray = load_image(path, ctx).convert("L")
    config = f"--psm 3 -c thresholding_method={_thresholding_for(gray)}"
    return lambda: pytesseract.image_to_data(gray, lang="eng+jpn", config=config, output_type=Output.DICT)


def direct_detect(path: Path, ctx: ToolContext, threads: int | None = None) -> Callable[[], None]:
    """Ultralytics predict on the decoded image with the tool's confidence and classes.

    `threads` None leaves torch's threads as Ultralytics sets them.
    """
    import torch

    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(ctx.model_dir) / "ultralytics"))
    from ultralytics import YOLO

    from tools import models
    from tools.images import load_image

    model = YOLO(str(models.ensure("detector", ctx.model_dir)))
    image = load_image(path, ctx)
    classes = sorted(model.names)

    def run() -> None:
        # Ultralytics sets torch to cpu_count-1 threads (1 here) when it builds a predictor;
        # the tool sets ctx.torch_threads (2) around every call, so this does too.
        if threads is not None:
            torch.set_num_threads(threads)
        model.predict(source=image, conf=ctx.detector_confidence, classes=classes, device="cpu", verbose=False)

    return run


def direct_asr(path: Path, ctx: ToolContext) -> Callable[[], None]:
    """openai-whisper on the memo: decode, pick en or ja, transcribe with the tool's options."""
    import torch
    import whisper

    from tools.whisper_convert import ensure_checkpoint

    model = whisper.load_model(str(ensure_checkpoint(ctx)), device="cpu").eval()

    def run() -> None:
        torch.set_num_threads(ctx.torch_threads)  # the tool sets it before every call too
        audio = whisper.load_audio(str(path))
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels)
        _, probs = model.detect_language(mel)
        language = max(("en", "ja"), key=lambda lang: probs.get(lang, 0.0))
        whisper.transcribe(model, audio, language=language, task="transcribe", temperature=0.0,
                           condition_on_previous_text=False, no_speech_threshold=None, fp16=False, verbose=None)

    return run


DIRECT: dict[str, Callable[[Path, ToolContext], Callable[[], None]]] = {
    "ocr": direct_ocr,
    "detect": lambda path, ctx: direct_detect(path, ctx, threads=ctx.torch_threads),
    "asr": direct_asr,
}


def _files(inputs: Inputs) -> dict[str, Path]:
    return {"ocr": inputs.nameplate, "detect": inputs.people, "asr": inputs.memo}


def _service_call(server: Server, name: str, path: Path) -> Callable[[], float]:
    client = server.client("submitter")
    payload = path.read_bytes()

    def call() -> float:
        response = client.post(f"/v1/tools/{name}", files={"file": (path.name, payload)}, timeout=300)
        body = response.json()
        if response.status_code != 200 or not body.get("ok"):
            raise RuntimeError(f"POST /v1/tools/{name} answered {response.status_code}: {response.text[:500]}")
        return body["duration_ms"] / 1000

    return call


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def compare(service: Callable[[], float], direct: Callable[[], None], reps: int) -> dict[str, Any]:
    """One warm-up call each, then `reps` alternating pairs; wall seconds of each call."""
    service()
    direct()
    svc, inner, lib = [], [], []
    for i in range(reps):
        for side in (("svc", "lib") if i % 2 == 0 else ("lib", "svc")):
            if side == "svc":
                seconds, in_tool = _timed(service)
                svc.append(seconds)
                inner.append(in_tool)
            else:
                lib.append(_timed(direct)[0])
    return {"service_s": svc, "service_in_tool_s": inner, "direct_s": lib}


def loop(fn: Callable[[], None], reps: int) -> list[float]:
    """One warm-up call, then `reps` timed calls; wall seconds of each."""
    fn()
    return [_timed(fn)[0] for _ in range(reps)]


def audio_seconds(path: Path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def measure(server: Server, inputs: Inputs, ctx: ToolContext, *, reps: int,
            names: tuple[str, ...] = ("ocr", "detect", "asr"), detect_default_threads: bool = False) -> Section:
    """Compare every tool in `names`; one row per tool (plus the time inside the tool, and RTF)."""
    section = Section("tools", notes=list(NOTES))
    files = _files(inputs)
    for name in names:
        raw = compare(_service_call(server, name, files[name]), DIRECT[name](files[name], ctx), reps)
        svc, inner, lib = (summary_ms(raw[k]) for k in ("service_s", "service_in_tool_s", "direct_s"))
        r = ratio(svc["median_ms"], lib["median_ms"])
        section.raw[name] = {**raw, "service": svc, "service_in_tool": inner, "direct": lib, "file": files[name].name}
        section.rows.append(Row(
            f"tool {name}", f"warm latency median / p95 (n={reps})",
            f"{fmt_ms(svc['median_ms'])} / {fmt_ms(svc['p95_ms'])}", f"{fmt_ms(lib['median_ms'])} / {fmt_ms(lib['p95_ms'])}",
            r, f"≤ {TARGET:.2f}", None if r is None else r <= TARGET))
        section.rows.append(Row(
            f"tool {name}", "of which inside the tool (server's duration_ms), median",
            fmt_ms(inner["median_ms"]), fmt_ms(lib["median_ms"]), ratio(inner["median_ms"], lib["median_ms"])))
        if name == "detect" and detect_default_threads:
            default = loop(direct_detect(files[name], ctx), reps)
            plain = summary_ms(default)
            section.raw[name]["direct_default_threads"] = {"samples_s": default, **plain}
            section.rows.append(Row(f"tool {name}", "direct with Ultralytics' default torch threads (cpu_count-1 = 1 here)",
                                    fmt_ms(svc["median_ms"]), fmt_ms(plain["median_ms"]),
                                    ratio(svc["median_ms"], plain["median_ms"])))
        if name == "asr":
            length = audio_seconds(files[name])
            rtf_svc, rtf_lib = svc["median_ms"] / 1000 / length, lib["median_ms"] / 1000 / length
            section.raw[name]["audio_s"] = length
            section.rows.append(Row(f"tool {name}", f"real-time factor (s per s of a {length:.1f} s memo)",
                                    f"{rtf_svc:.3f}", f"{rtf_lib:.3f}", ratio(rtf_svc, rtf_lib)))
    return section
