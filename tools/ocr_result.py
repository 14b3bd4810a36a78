"""What every engine `ocr` runs (Tesseract, RapidOCR, a PDF's text layer) shares: the shape
of a result (pages of lines and words, each with a box and a confidence) and its time budget."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from tools.registry import ToolResult

Box = tuple[int, int, int, int]


class OutOfTime(Exception):
    """The time budget is spent: no new OCR pass may start."""


# CJK punctuation, kana, kanji and full-width forms: engines put spaces between them.
CJK = (
    r"\u3000-\u303f\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
)
SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")


class OcrWord(BaseModel):
    """One word as read (one character, for Japanese read by RapidOCR)."""

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
    engine: Literal["rapid", "tesseract", "text_layer"] = Field(
        description="What read the page: RapidOCR (PP-OCR), Tesseract, or the PDF's own text layer"
    )
    width: int
    height: int
    lines: list[OcrLine] = Field(default_factory=list)
    words: list[OcrWord] = Field(default_factory=list)


class OcrResult(ToolResult):
    """The text read, line by line and word by word, with boxes and confidences."""

    text: str = ""
    lang: str
    pages: list[OcrPage] = Field(default_factory=list)


def weighted(pairs: list[tuple[str, float]]) -> float:
    """Mean confidence weighted by characters, so "AX-4471-B" counts more than "NO."."""
    total = sum(len(text) for text, _ in pairs)
    return round(sum(len(text) * conf for text, conf in pairs) / total, 4) if total else 0.0


def union(boxes: list[Box | None]) -> Box | None:
    """The smallest box holding every known box, or None when none is known."""
    known = [b for b in boxes if b is not None]
    if not known:
        return None
    return (
        min(b[0] for b in known), min(b[1] for b in known),
        max(b[2] for b in known), max(b[3] for b in known),
    )
