"""OCR: printed text in photos, scans and PDFs, with Tesseract 5 (English and Japanese).

Images go through `tools.images.load_image` (size limits, EXIF orientation, RGB), then
Tesseract with a second, upscaled pass when the text is too small for it. PDF pages that
carry a text layer are read from it directly (exact, confidence 1.0); the others are
rendered at 300 dpi and read like images.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pypdfium2 as pdfium
import pytesseract
from PIL import Image
from pydantic import BaseModel, Field
from pytesseract import Output

from tools.context import ToolContext
from tools.errors import ToolInputError, ToolTimeoutError
from tools.files import sniff_kind
from tools.images import load_image
from tools.pdf import PDFIUM_LOCK, open_pdf
from tools.registry import FileKind, ToolResult, tool

# Tesseract runs through a wrapper that gives it one OpenMP thread: otherwise it spins a
# thread per core for each page, fighting the other tools for the two cores (and slower
# than one thread for small images). Only the child gets the limit; the service's own
# OpenMP users (llama.cpp, torch) keep theirs.
_ONE_THREAD = Path(__file__).parent / "bin" / "tesseract-one-thread"
if os.access(_ONE_THREAD, os.X_OK):
    pytesseract.pytesseract.tesseract_cmd = str(_ONE_THREAD)

TIMEOUT_S = 120
# Stop starting new Tesseract passes this long before the runner abandons the call, so a
# long PDF returns the pages read so far instead of nothing.
_BUDGET_S = TIMEOUT_S - 10
PDF_DPI = 300
_PDF_SCALE = PDF_DPI / 72  # PDF user space is 1/72 inch
# Text lower than this (in pixels) is read better after upscaling; Tesseract is tuned
# for about 30 px capitals.
_SMALL_TEXT_PX = 20
_TARGET_TEXT_PX = 32
_MAX_OCR_PIXELS = 30_000_000  # upscaling never makes an image bigger than this
# Under uneven light the background's brightness (its 90th percentile in each of
# _TILES×_TILES tiles) differs by more than this, out of 255.
_TILES = 4
_UNEVEN_LIGHT = 64
_SUMMARY_CHARS = 1500

# CJK punctuation, kana, kanji and full-width forms: Tesseract puts spaces between them.
_CJK = (
    r"\u3000-\u303f\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
)
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_TEXT_LINE = re.compile(r"[^\r\n]*\S[^\r\n]*")  # a PDF text layer's non-blank line
_WORD = re.compile(r"\S+")
Box = tuple[int, int, int, int]


class _OutOfTime(Exception):
    """The time budget is spent: no new Tesseract pass may start."""


@dataclass(frozen=True)
class _Read:
    """One word as Tesseract gave it, boxed in the unscaled image's pixels."""

    text: str
    confidence: float
    box: Box
    line_key: tuple[int, int, int]  # (block, paragraph, line)


class OcrWord(BaseModel):
    """One word as read."""

    text: str
    confidence: float = Field(ge=0, le=1)
    box: Box | None = Field(description="[x0, y0, x1, y1] in page pixels; None if unknown")
    line: int = Field(description="Index of the word's line in its page's `lines`")


class OcrLine(BaseModel):
    """One line of text, its words joined (no spaces between Japanese characters)."""

    text: str
    confidence: float = Field(ge=0, le=1)
    box: Box | None = Field(description="[x0, y0, x1, y1] in page pixels; None if unknown")


class OcrPage(BaseModel):
    """One image, or one page of a PDF.

    Boxes are in pixels of a `width`×`height` picture of the page: the image itself
    (upright), or the PDF page at 300 dpi (less when the pixel limit required it).
    """

    page: int = Field(description="1-based page number")
    source: Literal["ocr", "text_layer"]
    width: int
    height: int
    lines: list[OcrLine] = Field(default_factory=list)
    words: list[OcrWord] = Field(default_factory=list)


class OcrResult(ToolResult):
    """The text read, line by line and word by word, with boxes and confidences."""

    text: str = ""
    lang: str
    pages: list[OcrPage] = Field(default_factory=list)


@tool(
    accepts=["image", "document"], produces="text", resource="cpu", max_concurrency=2, timeout=TIMEOUT_S, version="1"
)
def ocr(
    file: Path, ctx: ToolContext, lang: Literal["eng", "jpn", "eng+jpn"] = "eng+jpn"
) -> OcrResult:
    """Read printed text: nameplates, labels, serial and model numbers, ratings (200V 50Hz).

    Also drawing title blocks and part numbers, specification sheets and printed
    documents, in English and Japanese, from photos, scans and PDF files. Returns the
    text line by line with a confidence for each line. Not for handwriting, and it does
    not describe what an image shows.

    Args:
        file: A photo or scan (JPEG, PNG, TIFF...) or a PDF document with printed text.
        lang: Language of the text: "eng" for English only, "jpn" for Japanese (with
            Latin letters and digits), "eng+jpn" when unsure or mixed.
    """
    deadline = time.monotonic() + _BUDGET_S
    kind = sniff_kind(file)
    if kind is FileKind.IMAGE:
        image = load_image(file, ctx)
        try:
            pages, notes = [_ocr_page(image, 1, lang, deadline)], []
        except _OutOfTime:
            raise ToolTimeoutError(f"OCR of {file.name!r} took too long") from None
    elif kind is FileKind.DOCUMENT:
        pages, notes = _read_pdf(file, ctx, lang, deadline)
    else:
        raise ToolInputError(
            f"file {file.name!r} is {kind.value}; OCR reads images and PDF documents"
        )
    return _result(pages, lang, notes)


# --- images -------------------------------------------------------------------------


def _ocr_page(image: Image.Image, page: int, lang: str, deadline: float) -> OcrPage:
    """OCR one upright image; a second, upscaled pass when the text is small."""
    gray = image.convert("L")
    config = f"--psm 3 -c thresholding_method={_thresholding_for(gray)}"
    reads = _tesseract(gray, lang, config, 1.0, deadline)
    scale = _upscale_for(reads, gray.size)
    if scale > 1:
        size = (round(gray.width * scale), round(gray.height * scale))
        try:
            bigger = gray.resize(size, Image.Resampling.LANCZOS)
            upscaled = _tesseract(bigger, lang, config, scale, deadline)
        except _OutOfTime:
            upscaled = []
        if _score(upscaled) > _score(reads):
            reads = upscaled
    lines, words = _group_lines(reads)
    return OcrPage(
        page=page, source="ocr", width=image.width, height=image.height, lines=lines, words=words
    )


def _thresholding_for(gray: Image.Image) -> int:
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
        raise _OutOfTime
    try:
        data = pytesseract.image_to_data(
            gray, lang=lang, config=config, output_type=Output.DICT, timeout=remaining
        )
    except RuntimeError as exc:  # pytesseract kills Tesseract and says "...timeout"
        if "timeout" in str(exc).lower():
            raise _OutOfTime from exc
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
            text=_SPACE_BETWEEN_CJK.sub("", " ".join(m.text for m in members)),
            confidence=_weighted([(m.text, m.confidence) for m in members]),
            box=_union([m.box for m in members]),
        ))
    return lines, words


# --- PDF ----------------------------------------------------------------------------


def _read_pdf(
    path: Path, ctx: ToolContext, lang: str, deadline: float
) -> tuple[list[OcrPage], list[str]]:
    """Pages up to `ctx.max_pdf_pages`: from the text layer, else rendered and OCRed."""
    notes: list[str] = []
    pages: list[OcrPage] = []
    with PDFIUM_LOCK:
        pdf = open_pdf(path)
        count = len(pdf)
    try:
        if count == 0:
            raise ToolInputError(f"the PDF {path.name!r} has no pages")
        if count > ctx.max_pdf_pages:
            notes.append(f"the PDF has {count} pages; only the first {ctx.max_pdf_pages} were read")
        for index in range(min(count, ctx.max_pdf_pages)):
            with PDFIUM_LOCK:  # released while Tesseract runs
                page = _text_layer_page(pdf, index)
                image = _render_page(pdf, index, ctx, notes) if page is None else None
            if image is not None:
                try:
                    page = _ocr_page(image, index + 1, lang, deadline)
                except _OutOfTime:
                    if not pages:
                        raise ToolTimeoutError(f"OCR of {path.name!r} took too long") from None
                    notes.append(f"only {index} of the PDF's pages were read: out of time")
                    break
            pages.append(page)
    finally:
        with PDFIUM_LOCK:
            pdf.close()
    return pages, notes


def _text_layer_page(pdf: pdfium.PdfDocument, index: int) -> OcrPage | None:
    """The page read from its text layer, or None if it has none (a scan)."""
    page = pdf[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if not text.strip():
            return None
        # Boxes only when characters map one to one and the page is not rotated.
        boxed = textpage.count_chars() == len(text) and page.get_rotation() == 0
        left, _, _, top = page.get_bbox()

        def span_box(start: int, end: int) -> Box | None:
            chars = [textpage.get_charbox(i) for i in range(start, end)] if boxed else []
            chars = [c for c in chars if c[2] > c[0] and c[3] > c[1]]  # generated chars: empty
            if not chars:
                return None
            return (  # PDF y grows upwards from the bottom; image y downwards from the top
                math.floor((min(c[0] for c in chars) - left) * _PDF_SCALE),
                math.floor((top - max(c[3] for c in chars)) * _PDF_SCALE),
                math.ceil((max(c[2] for c in chars) - left) * _PDF_SCALE),
                math.ceil((top - min(c[1] for c in chars)) * _PDF_SCALE),
            )

        lines: list[OcrLine] = []
        words: list[OcrWord] = []
        for line in _TEXT_LINE.finditer(text):
            spans = [m.span() for m in _WORD.finditer(text, line.start(), line.end())]
            boxes = [span_box(*span) for span in spans]
            words += [
                OcrWord(text=text[a:b], confidence=1.0, box=box, line=len(lines))
                for (a, b), box in zip(spans, boxes, strict=True)
            ]
            lines.append(OcrLine(text=line.group().strip(), confidence=1.0, box=_union(boxes)))
        width, height = page.get_size()
        return OcrPage(
            page=index + 1, source="text_layer", lines=lines, words=words,
            width=round(width * _PDF_SCALE), height=round(height * _PDF_SCALE),
        )
    finally:
        textpage.close()
        page.close()


def _render_page(
    pdf: pdfium.PdfDocument, index: int, ctx: ToolContext, notes: list[str]
) -> Image.Image:
    """The page at 300 dpi, or at less when that would be over `ctx.max_image_pixels`."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        scale = _PDF_SCALE
        if _rendered_pixels(width, height, scale) > ctx.max_image_pixels:
            scale = math.sqrt(ctx.max_image_pixels / (width * height))
            while _rendered_pixels(width, height, scale) > ctx.max_image_pixels:
                scale *= 0.99  # PDFium rounds the bitmap size up
            notes.append(
                f"page {index + 1} is large: read at {scale * 72:.0f} dpi instead of {PDF_DPI}"
            )
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()


def _rendered_pixels(width: float, height: float, scale: float) -> int:
    return math.ceil(width * scale) * math.ceil(height * scale)


# --- result -------------------------------------------------------------------------


def _result(pages: list[OcrPage], lang: str, notes: list[str]) -> OcrResult:
    words = [w for p in pages for w in p.words]
    confidence = _weighted([(w.text, w.confidence) for w in words]) if words else None
    if confidence is None:
        notes = ["no text found", *notes]
    return OcrResult(
        summary=_summary(pages, confidence, notes),
        confidence=confidence,
        warnings=notes,
        text="\n\n".join("\n".join(line.text for line in p.lines) for p in pages if p.lines),
        lang=lang,
        pages=pages,
    )


def _summary(pages: list[OcrPage], confidence: float | None, notes: list[str]) -> str:
    """Lines with their confidences, for the LLM, within about `_SUMMARY_CHARS`."""
    count = sum(len(p.lines) for p in pages)
    if confidence is None:
        out = ["No text found."]
    else:
        where = f" from {len(pages)} pages" if len(pages) > 1 else ""
        out = [f"Read {count} line{'s' * (count != 1)}{where} (mean confidence {confidence:.2f}):"]
    budget = _SUMMARY_CHARS - len(out[0])
    shown = 0
    for p in pages:
        entries = [f'"{line.text}" ({line.confidence:.2f})' for line in p.lines]
        if len(pages) > 1 and entries:
            entries.insert(0, f"[page {p.page}, {p.source.replace('_', ' ')}]")
        for entry in entries:
            budget -= len(entry) + 1
            if budget < 0:
                break
            out.append(entry)
            shown += not entry.startswith("[page ")
    if shown < count:
        out.append(f"... {count - shown} more lines not shown")
    out += [f"Warning: {n}" for n in notes if n != "no text found"]
    return "\n".join(out)


def _weighted(pairs: list[tuple[str, float]]) -> float:
    """Mean confidence weighted by characters, so "AX-4471-B" counts more than "NO."."""
    total = sum(len(text) for text, _ in pairs)
    return round(sum(len(text) * conf for text, conf in pairs) / total, 4) if total else 0.0


def _union(boxes: list[Box | None]) -> Box | None:
    known = [b for b in boxes if b is not None]
    if not known:
        return None
    return (
        min(b[0] for b in known), min(b[1] for b in known),
        max(b[2] for b in known), max(b[3] for b in known),
    )
