"""OCR on photo-like nameplates (rotated, in perspective, blurred, small in clutter, unevenly
lit), English and Japanese, with the real RapidOCR and Tesseract, through the runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import tools.ocr  # noqa: F401  registers the tool even when the package is not installed
from tests.fixtures.images import NOTO_CJK, render_nameplate, render_scanned_pdf
from tests.fixtures.photos import DEGRADATIONS, PhotoPlate, photo_plates, read_exactly, render_photo_plate
from tools.context import ToolContext
from tools.ocr import is_paper
from tools.ocr_rapid import japanese_forms
from tools.registry import Registry, ToolSpec
from tools.runner import run_tool


@pytest.fixture(scope="module")
def spec(registry: Registry) -> ToolSpec:
    return registry.get("ocr")


@pytest.fixture(scope="module")
def plates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PhotoPlate]:
    return {f"{p.lang}-{p.degradation}": p for p in photo_plates(tmp_path_factory.mktemp("photos"))}


def read(spec: ToolSpec, path: Path, ctx: ToolContext, **args: Any) -> dict[str, Any]:
    run = run_tool(spec, path, args, ctx)
    assert run.ok, f"{run.error_kind}: {run.error}"
    assert run.result is not None
    return run.result


def test_the_engine_is_an_argument_auto_by_default(spec: ToolSpec) -> None:
    engine = spec.card()["arguments"]["properties"]["engine"]

    assert engine["enum"] == ["auto", "rapid", "tesseract"]
    assert engine["default"] == "auto"


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("degradation", DEGRADATIONS)
def test_reads_the_serial_code_on_a_photo_exactly(
    spec: ToolSpec, tool_ctx: ToolContext, plates: dict[str, PhotoPlate], lang: str, degradation: str
) -> None:
    plate = plates[f"{lang}-{degradation}"]

    result = read(spec, plate.path, tool_ctx)

    assert read_exactly(result["text"], plate.code), (plate.code, result["text"])
    page = result["pages"][0]
    assert (page["source"], page["engine"]) == ("ocr", "rapid")  # auto chose PP-OCR for a photo
    width, height = Image.open(plate.path).size
    assert (page["width"], page["height"]) == (width, height)
    code_line = next(line for line in page["lines"] if plate.code in "".join(line["text"].split()))
    assert 0.5 < code_line["confidence"] <= 0.99
    x0, y0, x1, y1 = code_line["box"]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    for word in page["words"]:
        assert word["text"] in page["lines"][word["line"]]["text"]
        wx0, wy0, wx1, wy1 = word["box"]
        assert 0 <= wx0 < wx1 <= width and 0 <= wy0 < wy1 <= height
    assert result["text"] == "\n".join(line["text"] for line in page["lines"])
    assert f'({code_line["confidence"]:.2f})' in result["summary"]


def test_japanese_text_gets_japanese_kanji_forms(spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path) -> None:
    # PP-OCR learnt its kanji mostly from Chinese: it prints 压 for 圧, 查 for 査, 济 for 済.
    path = render_nameplate(tmp_path / "inspected.png", ["定格電圧 200V", "検査済 2026"], font=NOTO_CJK, size=40)

    result = read(spec, path, tool_ctx, engine="rapid", lang="jpn")

    assert "定格電圧" in result["text"] and "検査済" in result["text"], result["text"]
    assert not set("电压查济") & set(result["text"])


def test_simplified_forms_map_to_japanese_ones_only() -> None:
    assert japanese_forms("检查济 电压 额定 发动") == "検査済 電圧 額定 発動"
    assert japanese_forms("机 准 台 号 AX-4471") == "机 准 台 号 AX-4471"  # Japanese characters too


def test_ratings_run_together_are_split(spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path) -> None:
    plate = render_photo_plate(tmp_path, "ja", "rotated", seed=0)

    text = read(spec, plate.path, tool_ctx)["text"]

    assert "V 60Hz" in text or "V 50Hz" in text, text


def test_auto_reads_paper_with_tesseract_and_photos_with_pp_ocr(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path, plates: dict[str, PhotoPlate]
) -> None:
    scan = render_nameplate(tmp_path / "scan.png")
    scanned_pdf = render_scanned_pdf(tmp_path / "scan.pdf", [["MODEL KX-200"]])

    assert is_paper(Image.open(scan)) and not is_paper(Image.open(plates["en-rotated"].path))
    assert read(spec, scan, tool_ctx)["pages"][0]["engine"] == "tesseract"
    assert read(spec, scanned_pdf, tool_ctx)["pages"][0]["engine"] == "tesseract"
    assert read(spec, scan, tool_ctx, engine="rapid")["pages"][0]["engine"] == "rapid"
    assert read(spec, plates["en-rotated"].path, tool_ctx, engine="tesseract")["pages"][0]["engine"] == "tesseract"


def test_both_engines_read_a_clean_plate_alike(spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path) -> None:
    path = render_nameplate(tmp_path / "plate.png")

    rapid = read(spec, path, tool_ctx, engine="rapid")
    tesseract = read(spec, path, tool_ctx, engine="tesseract")

    assert rapid["text"] == tesseract["text"] == "SERIAL NO. AX-4471-B\nMODEL KX-200\n200V 50Hz"


def test_blank_photo_is_an_empty_result(spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path) -> None:
    path = tmp_path / "grey.jpg"
    Image.new("RGB", (800, 600), (90, 110, 100)).save(path)

    result = read(spec, path, tool_ctx, engine="rapid")

    assert result["text"] == "" and result["confidence"] is None
    assert result["warnings"] == ["no text found"]
