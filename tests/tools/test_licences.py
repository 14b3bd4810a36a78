"""Licences as the models' and engines' own files state them (the installed files, read)."""

from __future__ import annotations

from tools import models
from tools.context import ToolContext


def test_the_fall_checkpoint_declares_agpl_inside_itself(tool_ctx: ToolContext) -> None:
    path = models.ensure("detector", tool_ctx.model_dir)

    assert models.declared_license(path) == "AGPL-3.0 (https://ultralytics.com/license)"
    assert models.get("detector").license == "AGPL-3.0"


def test_a_file_that_is_no_checkpoint_declares_nothing(tool_ctx: ToolContext) -> None:
    assert models.declared_license(models.ensure("asr", tool_ctx.model_dir)) is None


def test_engines_licences_match_their_packages() -> None:
    rows = {engine.dist: (engine, stated) for engine, _, stated in models.engine_licenses()}

    assert rows["rapidocr"][1] == "Apache-2.0"
    assert rows["faster-whisper"][1] == rows["ctranslate2"][1] == rows["openai-whisper"][1] == "MIT"
    assert rows["ultralytics-opencv-headless"][1] == "AGPL-3.0"
    assert rows["tesseract-ocr"][1] == "Apache-2.0"
    for engine, stated in rows.values():
        assert engine.license.split("-")[0].lower() in stated.lower(), (engine, stated)
