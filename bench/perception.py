"""Old and new perception engines side by side, in one run: OCR and speech recognition.

`python -m bench.perception [--seeds 3] [--reps 1] [--out bench/results]`

- **OCR**: photo-like nameplates (`tests/fixtures/photos.py`: rotated 8°, in perspective,
  motion-blurred, small in a cluttered scene, under uneven light; English and Japanese;
  one plate of each per seed), each read by the `ocr` tool with `engine="tesseract"` (the
  tool as it was: Tesseract with jimoku's passes), `engine="rapid"` (PP-OCR) and
  `engine="auto"`, calls alternating. Exact-read rate of the serial code, and ms per image.
  Also the realdev text photos and scans, scored by their `accept` strings.
- **ASR**: memos made by flite and espeak-ng with known words (`tests/fixtures/audio.py`)
  and the realdev recordings, each transcribed by the `asr` tool with
  `JIMOKU_ASR_BACKEND=openai` and `=faster`, calls alternating, both models warm: the
  real-time factor (processing time / audio length), the speed-up, the word error rate
  (character error rate for Japanese) against the text spoken, and realdev accept hits.

Everything runs in process, offline, through `tools.runner.run_tool` (the tool's own
pre- and post-processing included). Writes `<out>/<date>-perception.{json,md}`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from app.settings import Settings
from bench import machine, report
from bench.report import Row, Section
from bench.stats import fmt_ms, ratio
from tests.fixtures.audio import MEMO_TEXT, ROBOT_TEXT, espeak_wav, flite_wav, normalise
from tests.fixtures.photos import photo_plates, read_exactly
from tools.context import ToolContext
from tools.plugins import load_plugins
from tools.registry import REGISTRY
from tools.runner import run_tool

REALDEV = Path(__file__).resolve().parents[2] / "shared" / "realdev"
OCR_ENGINES = ("tesseract", "rapid", "auto")
ASR_BACKENDS = ("openai", "faster")

# Spoken text, and what a careful listener would write down (the reference for WER).
SPOKEN: list[tuple[str, str, str, str]] = [
    ("flite slt", MEMO_TEXT, "The serial number is AX4471. Machine KX200 is overheating.", "en"),
    ("flite rms", MEMO_TEXT, "The serial number is AX4471. Machine KX200 is overheating.", "en"),
    ("flite awb", MEMO_TEXT, "The serial number is AX4471. Machine KX200 is overheating.", "en"),
    ("flite slt", "Pressure on pump two is four bar. Please check the valve before noon.",
     "Pressure on pump two is four bar. Please check the valve before noon.", "en"),
    ("flite rms", "The conveyor on line three stopped at ten fifteen. Restart it after the inspection.",
     "The conveyor on line three stopped at ten fifteen. Restart it after the inspection.", "en"),
    ("espeak en", ROBOT_TEXT, "Please check the pump on line three.", "en"),
    ("espeak ja", "きかいのおんどがたかいです", "機械の温度が高いです", "ja"),
    ("espeak ja", "ポンプのあつりょくをかくにんしてください", "ポンプの圧力を確認してください", "ja"),
]


def _norm_accept(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    return "".join(c for c in s if not (c.isspace() or unicodedata.category(c)[0] in "PZ" or c in "~～〜"))


def _edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def error_rate(reference: str, heard: str, lang: str) -> tuple[int, int]:
    """(errors, reference length): words for English, characters for Japanese."""
    numbers = {"two": "2", "three": "3", "four": "4", "ten": "10", "fifteen": "15"}
    if lang == "ja":
        ref, hyp = list(_norm_accept(reference)), list(_norm_accept(heard))
    else:
        ref = [numbers.get(w, w) for w in normalise(reference).split()]
        hyp = [numbers.get(w, w) for w in normalise(heard).split()]
    return _edit_distance(ref, hyp), len(ref)


def _run(name: str, path: Path, args: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], float]:
    """The tool's result and the wall time of the call."""
    started = time.perf_counter()
    outcome = run_tool(REGISTRY.get(name), path, args, ctx)
    seconds = time.perf_counter() - started
    if not outcome.ok or outcome.result is None:
        raise RuntimeError(f"{name} failed on {path.name}: {outcome.error_kind}: {outcome.error}")
    return outcome.result, seconds


def _realdev(kind_files: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    cases_file = REALDEV / "cases.json"
    if not cases_file.is_file():
        return []
    return [c for c in json.loads(cases_file.read_text()) if kind_files(c)]


def measure_ocr(ctx: ToolContext, tmp: Path, seeds: int) -> Section:
    """Every photo plate (and realdev text image) through each engine, calls alternating."""
    plates = photo_plates(tmp / "plates", seeds=range(seeds))
    _run("ocr", plates[0].path, {"engine": "rapid"}, ctx)  # load PP-OCR before the clock starts
    samples: dict[str, list[dict[str, Any]]] = {e: [] for e in OCR_ENGINES}
    for i, plate in enumerate(plates):
        order = OCR_ENGINES if i % 2 == 0 else tuple(reversed(OCR_ENGINES))
        for engine in order:
            result, seconds = _run("ocr", plate.path, {"engine": engine}, ctx)
            samples[engine].append({"plate": plate.path.name, "lang": plate.lang, "degradation": plate.degradation,
                                    "code": plate.code, "exact": read_exactly(result["text"], plate.code),
                                    "ms": round(seconds * 1000, 1), "engine_used": result["pages"][0]["engine"]})
    rows: list[Row] = []
    n = {lang: sum(1 for p in plates if p.lang == lang) for lang in ("en", "ja")}
    for lang, label in (("en", "English"), ("ja", "Japanese")):
        got = {e: sum(s["exact"] for s in samples[e] if s["lang"] == lang) for e in OCR_ENGINES}
        rows.append(Row("ocr photo plates", f"serial read exactly, {label} (rapid; auto {got['auto']}/{n[lang]})",
                        f"{got['rapid']}/{n[lang]}", baseline=f"{got['tesseract']}/{n[lang]} (tesseract)",
                        target="≥ 95%", met=got["rapid"] >= 0.95 * n[lang]))
    medians = {e: statistics.median(s["ms"] for s in samples[e]) for e in OCR_ENGINES}
    rows.append(Row("ocr photo plates", f"ms per image, median (n={len(plates)}; auto {fmt_ms(medians['auto'])})",
                    fmt_ms(medians["rapid"]), baseline=f"{fmt_ms(medians['tesseract'])} (tesseract)",
                    ratio=ratio(medians["rapid"], medians["tesseract"]), target="≤ 1.00 × tesseract",
                    met=medians["rapid"] <= medians["tesseract"]))
    for degradation in sorted({p.degradation for p in plates}):
        got = {e: sum(s["exact"] for s in samples[e] if s["degradation"] == degradation) for e in OCR_ENGINES}
        total = sum(1 for p in plates if p.degradation == degradation)
        rows.append(Row("ocr photo plates", f"  {degradation}", f"{got['rapid']}/{total}",
                        baseline=f"{got['tesseract']}/{total}"))
    real = _realdev_ocr(ctx)
    rows += real[0]
    notes = ["'tesseract' is the tool as it was (Tesseract 5 with jimoku's upscaling and binarization passes); "
             "'auto' is the new default (Tesseract for pictures of paper, PP-OCR for everything else)."]
    return Section("ocr", rows=rows, raw={"plates": samples, "realdev": real[1]}, notes=notes)


def _realdev_ocr(ctx: ToolContext) -> tuple[list[Row], list[dict[str, Any]]]:
    cases = _realdev(lambda c: c["expected_tools"] == ["ocr"])
    if not cases:
        return [], []
    raw = []
    for case in cases:
        path = REALDEV / case["files"][0]
        for engine in OCR_ENGINES:
            result, seconds = _run("ocr", path, {"engine": engine}, ctx)
            hit = any(_norm_accept(a) in _norm_accept(result["text"]) for a in case["accept"])
            raw.append({"case": case["id"], "engine": engine, "hit": hit, "ms": round(seconds * 1000, 1),
                        "engines_used": sorted({p["engine"] for p in result["pages"]})})
    hits = {e: sum(r["hit"] for r in raw if r["engine"] == e) for e in OCR_ENGINES}
    ms = {e: statistics.median(r["ms"] for r in raw if r["engine"] == e) for e in OCR_ENGINES}
    n = len(cases)
    return [
        Row("ocr realdev", f"answer text present, {n} text photos/scans/PDFs (auto {hits['auto']}/{n})",
            f"{hits['rapid']}/{n}", baseline=f"{hits['tesseract']}/{n} (tesseract)"),
        Row("ocr realdev", f"ms per file, median (auto {fmt_ms(ms['auto'])})", fmt_ms(ms["rapid"]),
            baseline=f"{fmt_ms(ms['tesseract'])} (tesseract)", ratio=ratio(ms["rapid"], ms["tesseract"])),
    ], raw


def _memos(folder: Path) -> list[tuple[str, Path, str, str]]:
    """(name, path, reference, language) of every memo: the spoken ones, then realdev's."""
    folder.mkdir(parents=True, exist_ok=True)
    memos = []
    for i, (voice, text, reference, lang) in enumerate(SPOKEN):
        path = folder / f"memo{i}.wav"
        if voice.startswith("flite"):
            flite_wav(text, path, voice=voice.split()[1])
        else:
            espeak_wav(text, path, voice=voice.split()[1])
        memos.append((f"{voice}: {reference[:28]}…", path, reference, lang))
    return memos


def measure_asr(ctx: ToolContext, tmp: Path, reps: int) -> Section:
    """Each memo through both backends, alternating, `reps` times."""
    contexts = {b: dataclasses.replace(ctx, asr_backend=b) for b in ASR_BACKENDS}
    import tools.asr

    for c in contexts.values():
        tools.asr.warm_up(c)
    memos = _memos(tmp / "memos")
    real = _realdev(lambda c: c["expected_tools"] == ["asr"] and not c["unanswerable"])
    runs: list[dict[str, Any]] = []
    items = [(name, path, ref, lang, None) for name, path, ref, lang in memos]
    items += [(c["id"], REALDEV / c["files"][0], "", "", c["accept"]) for c in real]
    for rep in range(reps):
        for i, (name, path, reference, lang, accept) in enumerate(items):
            order = ASR_BACKENDS if (i + rep) % 2 == 0 else tuple(reversed(ASR_BACKENDS))
            for backend in order:
                result, seconds = _run("asr", path, {}, contexts[backend])
                run = {"memo": name, "backend": backend, "seconds": round(seconds, 3),
                       "audio_s": result["duration_s"], "text": result["text"], "realdev": accept is not None}
                if accept is None:
                    run["errors"], run["ref_len"] = error_rate(reference, result["text"], lang)
                else:
                    run["hit"] = any(_norm_accept(a) in _norm_accept(result["text"]) for a in accept)
                runs.append(run)
    rows = []
    for label, chosen in (("fixture memos", False), ("realdev memos", True)):
        sel = [r for r in runs if r["realdev"] == chosen]
        if not sel:
            continue
        rtf = {b: sum(r["seconds"] for r in sel if r["backend"] == b) / sum(r["audio_s"] for r in sel
               if r["backend"] == b) for b in ASR_BACKENDS}
        n = len(sel) // len(ASR_BACKENDS) // reps
        rows.append(Row(f"asr {label}", f"real-time factor (n={n}, reps={reps})", f"{rtf['faster']:.3f}",
                        baseline=f"{rtf['openai']:.3f} (openai-whisper)", ratio=ratio(rtf["openai"], rtf["faster"]),
                        target="speed-up ≥ 2.5", met=rtf["openai"] >= 2.5 * rtf["faster"]))
        if not chosen:
            wer = {b: sum(r["errors"] for r in sel if r["backend"] == b) / sum(r["ref_len"] for r in sel
                   if r["backend"] == b) for b in ASR_BACKENDS}
            same = sum(1 for a, b in zip(sel[::2], sel[1::2], strict=True) if normalise(a["text"]) == normalise(b["text"]))
            rows.append(Row(f"asr {label}", f"word error rate (CER for Japanese); same transcript {same}/{len(sel) // 2}",
                            f"{wer['faster']:.3f}", baseline=f"{wer['openai']:.3f} (openai-whisper)",
                            target="≤ openai-whisper", met=wer["faster"] <= wer["openai"] + 1e-9))
        else:
            hits = {b: sum(r["hit"] for r in sel if r["backend"] == b) for b in ASR_BACKENDS}
            rows.append(Row(f"asr {label}", "answer words heard", f"{hits['faster']}/{len(sel) // 2}",
                            baseline=f"{hits['openai']}/{len(sel) // 2} (openai-whisper)",
                            target="≥ openai-whisper", met=hits["faster"] >= hits["openai"]))
    notes = ["Both backends run the same Whisper base weights, greedy decoding at temperature 0, "
             f"{ctx.torch_threads} threads; faster-whisper in {ctx.asr_compute_type} (CTranslate2), openai-whisper in float32 (torch)."]
    return Section("asr", rows=rows, raw={"runs": runs}, notes=notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perception", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="photo plates: each degradation × language per seed")
    parser.add_argument("--reps", type=int, default=1, help="passes over the memos")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    started_at = datetime.now().astimezone()
    t0 = time.perf_counter()
    monitor = machine.LoadMonitor()
    monitor.start()
    load_plugins()
    ctx = Settings().tool_context()
    with tempfile.TemporaryDirectory(prefix="jimoku-perception-") as tmp_name:
        tmp = Path(tmp_name)
        sections = [measure_ocr(ctx, tmp, args.seeds), measure_asr(ctx, tmp, args.reps)]
    doc = report.document(sections, {
        "started_at": started_at.isoformat(timespec="seconds"), "mode": "perception",
        "config": vars(args) | {"out": str(args.out)}, "wall_s": round(time.perf_counter() - t0, 1),
        "machine": machine.describe(), "load": monitor.stop()})
    report.write(doc, args.out, f"{started_at:%Y-%m-%d}-perception")
    print(report.markdown(doc))
    return 0 if all(r.met is not False for s in sections for r in s.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
