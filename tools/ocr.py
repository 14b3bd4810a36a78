"""OCR: printed text in photos, scans and PDFs, English and Japanese, with two engines.

PP-OCR (RapidOCR, `tools.ocr_rapid`) reads photos: plates rotated, in perspective, blurred,
small in a cluttered scene or under uneven light. Tesseract 5 (`tools.ocr_tesseract`) reads
scans and clean pages of paper, as well and two to three times faster. `engine="auto"`
chooses per page: Tesseract for a picture of paper (no colour, a white background, even
light), PP-OCR for anything else. Measured on photo-like plates, realdev text photos and
the test fixtures (bench/perception.py; the numbers are in its report). PDF pages that
carry a text layer are read from it directly (exact, confidence 1.0); the others are
rendered at 300 dpi and read like images. Images go through `tools.images.load_image`
(size limits, EXIF orientation, RGB) first.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from tools import ocr_rapid, ocr_tesseract
from tools.context import ToolContext
from tools.errors import ToolInputError, ToolTimeoutError
from tools.files import sniff_kind
from tools.images import load_image
from tools.ocr_result import (
    Box,
    OcrLine,
    OcrPage,
    OcrResult,
    OcrWord,
    OutOfTime,
    union,
    weighted,
)
from tools.ocr_tesseract import (
    thresholding_for as _thresholding_for,  # bench/tools.py uses it
)
from tools.pdf import PDFIUM_LOCK, open_pdf
from tools.registry import FileKind, tool

__all__ = ["OcrLine", "OcrPage", "OcrResult", "OcrWord", "ocr", "warm_up"]

TIMEOUT_S = 120
# Stop starting new OCR passes this long before the runner abandons the call, so a long
# PDF returns the pages read so far instead of nothing.
_BUDGET_S = TIMEOUT_S - 10
PDF_DPI = 300
_PDF_SCALE = PDF_DPI / 72  # PDF user space is 1/72 inch
_SUMMARY_CHARS = 1500
# A picture of paper: its median brightness (out of 255) at least this, its mean
# saturation at most this, and its light even (Tesseract would binarize it globally).
_PAPER_MEDIAN = 230
_PAPER_SATURATION = 30

_TEXT_LINE = re.compile(r"[^\r\n]*\S[^\r\n]*")  # a PDF text layer's non-blank line
_WORD = re.compile(r"\S+")

Engine = Literal["auto", "rapid", "tesseract"]


def warm_up(ctx: ToolContext) -> None:
    """Load PP-OCR's models now, so the first photo does not wait for them."""
    ocr_rapid.warm_up()


@tool(
    accepts=["image", "document"], produces="text", resource="cpu", max_concurrency=2, timeout=TIMEOUT_S, version="2",
    warm_up=warm_up,
)
def ocr(
    file: Path,
    ctx: ToolContext,
    lang: Literal["eng", "jpn", "eng+jpn"] = "eng+jpn",
    engine: Engine = "auto",
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
        engine: "auto" (best): PP-OCR for photos, Tesseract for scans and clean pages;
            "rapid" or "tesseract" to force one engine.
    """
    deadline = time.monotonic() + _BUDGET_S
    kind = sniff_kind(file)
    notes: list[str]
    if kind is FileKind.IMAGE:
        image = load_image(file, ctx)
        try:
            pages, notes = [_read_image(image, 1, lang, engine, deadline)], []
        except OutOfTime:
            raise ToolTimeoutError(f"OCR of {file.name!r} took too long") from None
    elif kind is FileKind.DOCUMENT:
        pages, notes = _read_pdf(file, ctx, lang, engine, deadline)
    else:
        raise ToolInputError(
            f"file {file.name!r} is {kind.value}; OCR reads images and PDF documents"
        )
    return _result(pages, lang, notes)


# --- images -------------------------------------------------------------------------


def _read_image(image: Image.Image, page: int, lang: str, engine: Engine, deadline: float) -> OcrPage:
    """One upright image read by the engine `engine` names, or the one suited to it."""
    chosen = engine if engine != "auto" else ("tesseract" if is_paper(image) else "rapid")
    if chosen == "tesseract":
        return ocr_tesseract.read_page(image, page, lang, deadline)
    return ocr_rapid.read_page(image, page, deadline)


def is_paper(image: Image.Image) -> bool:
    """True for a scan, a screenshot or a rendered page: dark print on white paper, evenly lit.

    Tesseract reads those as well as PP-OCR, and faster; a photo (colour, a scene around
    the text, shadows and glare) is what PP-OCR is for.
    """
    small = image.copy()
    small.thumbnail((512, 512))
    gray = small.convert("L")
    if float(np.median(np.asarray(gray))) < _PAPER_MEDIAN:
        return False
    saturation = float(np.asarray(small.convert("HSV"))[..., 1].mean())
    return saturation <= _PAPER_SATURATION and _thresholding_for(gray) == 0


# --- PDF ----------------------------------------------------------------------------


def _read_pdf(
    path: Path, ctx: ToolContext, lang: str, engine: Engine, deadline: float
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
                    page = _read_image(image, index + 1, lang, engine, deadline)
                except OutOfTime:
                    if not pages:
                        raise ToolTimeoutError(f"OCR of {path.name!r} took too long") from None
                    notes.append(f"only {index} of the PDF's pages were read: out of time")
                    break
            assert page is not None  # from the text layer, else read from the rendered page
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
            lines.append(OcrLine(text=line.group().strip(), confidence=1.0, box=union(boxes)))
        width, height = page.get_size()
        return OcrPage(
            page=index + 1, source="text_layer", engine="text_layer", lines=lines, words=words,
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
    confidence = weighted([(w.text, w.confidence) for w in words]) if words else None
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

