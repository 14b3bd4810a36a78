"""Tesseract 5 passes for `ocr`: one page image in, one `OcrPage` out.

A first pass on the grayscale image (Otsu, or Sauvola under uneven light), and a second,
upscaled pass when the text is too small for Tesseract; the better-scored one is kept.
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pytesseract
from PIL import Image
from pytesseract import Output

from tools.ocr_result import (
    SPACE_BETWEEN_CJK,
    OcrLine,
    OcrPage,
    OcrWord,
    OutOfTime,
    union,
    weighted,
)

# Tesseract runs through a wrapper that gives it one OpenMP thread: otherwise it spins a
# thread per core for each page, fighting the other tools for the two cores (and slower
# than one thread for small images). Only the child gets the limit; the service's own
# OpenMP users (llama.cpp, torch) keep theirs.
_ONE_THREAD = Path(__file__).parent / "bin" / "tesseract-one-thread"
if os.access(_ONE_THREAD, os.X_OK):
    pytesseract.pytesseract.tesseract_cmd = str(_ONE_THREAD)

# Text lower than this (in pixels) is read better after upscaling; Tesseract is tuned
# for about 30 px capitals.
_SMALL_TEXT_PX = 20
_TARGET_TEXT_PX = 32
_MAX_OCR_PIXELS = 30_000_000  # upscaling never makes an image bigger than this
# Under uneven light the background's brightness (its 90th percentile in each of
# _TILES×_TILES tiles) differs by more than this, out of 255.
_TILES = 4
_UNEVEN_LIGHT = 64

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class _Read:
    """One word as Tesseract gave it, boxed in the unscaled image's pixels."""

    text: str
    confidence: float
    box: Box
    line_key: tuple[int, int, int]  # (block, paragraph, line)


def read_page(image: Image.Image, page: int, lang: str, deadline: float) -> OcrPage:
    """OCR one upright image; a second, upscaled pass when the text is small.

    Raises `OutOfTime` when the first pass cannot start before `deadline`.
    """
    gray = image.convert("L")
    config = f"--psm 3 -c thresholding_method={thresholding_for(gray)}"
    reads = _tesseract(gray, lang, config, 1.0, deadline)
    scale = _upscale_for(reads, gray.size)
    if scale > 1:
        size = (round(gray.width * scale), round(gray.height * scale))
        try:
            bigger = gray.resize(size, Image.Resampling.LANCZOS)
            upscaled = _tesseract(bigger, lang, config, scale, deadline)
        except OutOfTime:
            upscaled = []
        if _score(upscaled) > _score(reads):
            reads = upscaled
    lines, words = _group_lines(reads)
    return OcrPage(
        page=page, source="ocr", engine="tesseract", width=image.width, height=image.height,
        lines=lines, words=words,
    )


def thresholding_for(gray: Image.Image) -> int:
    """Tesseract's binarization: global Otsu (0), or Sauvola (2) under uneven light.

    Otsu picks one threshold for the whole image, which loses the text in the shadowed
    part of a photo; Sauvola adapts locally but turns heavy noise into specks, so it is
    used only when the paper's brightness differs a lot from one part to another.
    """
    w, h, n = gray.width, gray.height, _TILES
    brightest = [
        _percentile(gray.crop((i * w // n, j * h // n, (i + 1) * w // n, (j + 1) * h // n)), 0.9)
        for i in range(n)
        for j in range(n)
    ]
    return 2 if max(brightest) - min(brightest) > _UNEVEN_LIGHT else 0


def _percentile(gray: Image.Image, q: float) -> int:
    histogram = gray.histogram()
    target = q * sum(histogram)
    return next(v for v, count in enumerate(itertools.accumulate(histogram)) if count >= target)


def _tesseract(
    gray: Image.Image, lang: str, config: str, scale: float, deadline: float
) -> list[_Read]:
    """Tesseract's words in `gray`, their boxes divided by `scale`."""
    remaining = deadline - time.monotonic()
    if remaining < 1:
        raise OutOfTime
    try:
        data = pytesseract.image_to_data(
            gray, lang=lang, config=config, output_type=Output.DICT, timeout=remaining
        )
    except RuntimeError as exc:  # pytesseract kills Tesseract and says "...timeout"
        if "timeout" in str(exc).lower():
            raise OutOfTime from exc
        raise
    reads = []
    for i, raw in enumerate(data["text"]):
        text, conf = (raw or "").strip(), float(data["conf"][i]) / 100
        if not text or conf < 0:  # conf is -1 on the page/block/line rows
            continue
        if conf < 0.5 and not any(ch.isalnum() for ch in text):
            continue  # specks and edges read as "|", "_", "—"
        left, top = data["left"][i], data["top"][i]
        right, bottom = left + data["width"][i], top + data["height"][i]
        box = (
            math.floor(left / scale), math.floor(top / scale),
            math.ceil(right / scale), math.ceil(bottom / scale),
        )
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        reads.append(_Read(text, min(conf, 1.0), box, key))
    return reads


def _upscale_for(reads: list[_Read], size: tuple[int, int]) -> float:
    """How much to enlarge an image whose text is too small for Tesseract (1 = not)."""
    heights = [r.box[3] - r.box[1] for r in reads if any(c.isalnum() for c in r.text)]
    if heights:
        median = statistics.median(heights)
        if median >= _SMALL_TEXT_PX:
            return 1.0
        scale = min(4.0, max(2.0, _TARGET_TEXT_PX / max(median, 1)))
    elif max(size) < 1000:
        scale = 2.0  # found nothing in a small image: perhaps text too small to see
    else:
        return 1.0
    scale = min(scale, math.sqrt(_MAX_OCR_PIXELS / (size[0] * size[1])))
    return scale if scale > 1.2 else 1.0


def _score(reads: list[_Read]) -> float:
    """Confident characters: how much was read, weighted by how sure Tesseract is."""
    return sum(r.confidence * len(r.text) for r in reads)


def _group_lines(reads: list[_Read]) -> tuple[list[OcrLine], list[OcrWord]]:
    by_line: dict[tuple[int, int, int], list[_Read]] = {}
    for read in reads:
        by_line.setdefault(read.line_key, []).append(read)
    lines: list[OcrLine] = []
    words: list[OcrWord] = []
    for index, members in enumerate(by_line.values()):
        words += [
            OcrWord(text=m.text, confidence=m.confidence, box=m.box, line=index) for m in members
        ]
        lines.append(OcrLine(
            text=SPACE_BETWEEN_CJK.sub("", " ".join(m.text for m in members)),
            confidence=weighted([(m.text, m.confidence) for m in members]),
            box=union([m.box for m in members]),
        ))
    return lines, words
