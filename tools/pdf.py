"""Opening PDFs with PDFium, which is not thread-safe: every call holds `PDFIUM_LOCK`."""

from __future__ import annotations

import threading
from pathlib import Path

import pypdfium2 as pdfium

from tools.errors import ToolInputError

PDFIUM_LOCK = threading.Lock()
"""Hold it around every pypdfium2 call (open, render, text, close)."""


def open_pdf(path: Path) -> pdfium.PdfDocument:
    """Open a PDF (call with `PDFIUM_LOCK` held); a clear `ToolInputError` when it cannot be."""
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ToolInputError(
                f"the PDF {path.name!r} is password-protected; send an unprotected copy"
            ) from None
        raise ToolInputError(
            f"the PDF {path.name!r} is corrupt or truncated and cannot be opened ({exc}); "
            "send the original file again"
        ) from None


def page_count(path: Path) -> int:
    """Number of pages; `ToolInputError` for a PDF that cannot be opened or has none."""
    with PDFIUM_LOCK:
        pdf = open_pdf(path)
        try:
            count = len(pdf)
        finally:
            pdf.close()
    if count == 0:
        raise ToolInputError(f"the PDF {path.name!r} has no pages")
    return count
