"""What a tool is given besides its file: model locations and input limits.

Tools never read environment variables; the service (or the CLI) builds one
`ToolContext` from its settings and hands it to every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class ToolContext:
    """Per-process configuration for tools."""

    model_dir: Path
    """Folder holding the assembled and converted embedded models."""
    detector_model: Path | None = None
    """An Ultralytics model file; None means the embedded people/fall YOLOv8n."""
    detector_confidence: float = 0.25
    """Detections below this confidence are dropped."""
    max_image_pixels: int = 50_000_000
    """Larger images are refused before decoding (decompression bombs)."""
    min_image_side: int = 16
    """Smaller images are refused: nothing can be read or found in them."""
    max_pdf_pages: int = 40
    """Pages of a PDF beyond this are not read (and a warning says so)."""
    max_audio_seconds: float = 900.0
    """Longer recordings are refused."""
    torch_threads: int = 2
    """Threads torch may use (Ultralytics and Whisper); set explicitly per engine."""
    asr_backend: Literal["faster", "openai"] = "faster"
    """Whisper runs on faster-whisper (CTranslate2) or on openai-whisper (torch)."""
    asr_compute_type: Literal["float32", "int8"] = "float32"
    """faster-whisper's arithmetic (float32 hears what openai-whisper hears; int8 is faster)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form settings for plugin tools (`JIMOKU_TOOL_EXTRA` as JSON)."""
