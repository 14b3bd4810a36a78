"""jimoku's stable public API for plugin authors.

Write a tool against these names only; the internal modules behind them may move::

    from pathlib import Path
    from jimoku import ToolResult, tool

    class GaugeResult(ToolResult):
        bar: float

    @tool(accepts=["image"], produces="report", timeout=30)
    def gauge_reading(file: Path) -> GaugeResult:
        '''Read the pressure in bar shown by an analogue pressure gauge.

        Args:
            file: Photo of the gauge face.
        '''

A tool that reads text should return the result shape of the built-in OCR
(`OcrResult`: `text` and `pages` of `lines` with boxes) and declare `produces="text"`;
it then gets the same checks, retrieval and reviewer-page overlay as the built-in one.
"""

from tools.context import ToolContext
from tools.errors import ToolInputError
from tools.ocr_result import OcrLine, OcrPage, OcrResult, OcrWord
from tools.registry import FileKind, Produces, ToolResult, tool

__all__ = [
    "FileKind",
    "OcrLine",
    "OcrPage",
    "OcrResult",
    "OcrWord",
    "Produces",
    "ToolContext",
    "ToolInputError",
    "ToolResult",
    "tool",
]
