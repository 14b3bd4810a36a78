"""The OCR tool on rendered nameplates and PDFs, with the real Tesseract, through the runner."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import tools.ocr  # noqa: F401  registers the tool even when the package is not installed
from tests.fixtures.images import (
    NAMEPLATE_LINES,
    NOTO_CJK,
    merge_pdfs,
    render_nameplate,
    render_pdf_with_text_layer,
    render_scanned_pdf,
    write_encrypted_pdf,
    write_png_header,
    write_silent_wav,
)
from tools.context import ToolContext
from tools.registry import Registry, ToolSpec
from tools.runner import ToolRun, run_tool


@pytest.fixture(scope="module")
def spec(registry: Registry) -> ToolSpec:
    return registry.get("ocr")


def read(spec: ToolSpec, path: Path, ctx: ToolContext, **args: Any) -> dict[str, Any]:
    """Run OCR through the runner and return its result, failing loudly if it errored."""
    run = run_tool(spec, path, args, ctx)
    assert run.ok, f"{run.error_kind}: {run.error}"
    assert run.result is not None
    return run.result


def line_texts(result: dict[str, Any], page: int = 0) -> list[str]:
    return [line["text"] for line in result["pages"][page]["lines"]]


def test_tool_card_tells_the_planner_what_it_reads(spec: ToolSpec) -> None:
    card = spec.card()
    first_line = card["description"].splitlines()[0].lower()

    assert all(word in first_line for word in ("printed text", "nameplates", "serial"))
    assert "japanese" in card["description"].lower() and "pdf" in card["description"].lower()
    assert set(card["accepts"]) == {"image", "document"}
    assert card["arguments"]["properties"]["lang"]["enum"] == ["eng", "jpn", "eng+jpn"]
    assert card["arguments"]["properties"]["lang"]["default"] == "eng+jpn"
    assert (spec.max_concurrency, spec.timeout, spec.resource) == (2, 120.0, "cpu")


@pytest.mark.parametrize("quality", ["clean", "blur", "noise", "tilt", "lowres", "shadow"])
def test_reads_a_nameplate_exactly(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path, quality: str
) -> None:
    path = render_nameplate(tmp_path / f"plate_{quality}.png", quality=quality)

    result = read(spec, path, tool_ctx)

    lines = line_texts(result)
    for expected in NAMEPLATE_LINES:
        assert expected in lines
    assert result["text"] == "\n".join(lines)
    assert result["confidence"] > 0.75
    assert result["warnings"] == []
    assert '"SERIAL NO. AX-4471-B" (0.' in result["summary"]


def test_words_have_boxes_in_image_pixels(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    # The low-resolution plate is read upscaled: boxes must still be in its own pixels.
    path = render_nameplate(tmp_path / "plate.png", quality="lowres")
    width, height = Image.open(path).size

    page = read(spec, path, tool_ctx, lang="eng")["pages"][0]

    assert (page["page"], page["source"]) == (1, "ocr")
    assert (page["width"], page["height"]) == (width, height)
    for word in page["words"]:
        x0, y0, x1, y1 = word["box"]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert 0 <= word["confidence"] <= 1
        assert word["text"] in page["lines"][word["line"]]["text"]
    tops = [line["box"][1] for line in page["lines"]]
    assert tops == sorted(tops)


@pytest.mark.parametrize("lang", ["jpn", None])
def test_reads_japanese(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path, lang: str | None
) -> None:
    path = render_nameplate(
        tmp_path / "plate_ja.png", ["製造番号 AX-4471"], font=NOTO_CJK, size=40
    )

    result = read(spec, path, tool_ctx, **({"lang": lang} if lang else {}))

    assert "製造番号" in result["text"]  # no spaces left between the kanji
    assert "AX-4471" in result["text"]
    assert result["lang"] == (lang or "eng+jpn")


def test_pdf_text_layer_is_read_exactly(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    pages = [list(NAMEPLATE_LINES), ["DRAWING NO. D-1029 REV C"]]
    path = render_pdf_with_text_layer(tmp_path / "spec.pdf", pages)

    result = read(spec, path, tool_ctx)

    assert [p["source"] for p in result["pages"]] == ["text_layer", "text_layer"]
    assert result["text"] == "\n".join(NAMEPLATE_LINES) + "\n\nDRAWING NO. D-1029 REV C"
    assert result["confidence"] == 1.0
    first = result["pages"][0]
    assert (first["width"], first["height"]) == (round(595 * 300 / 72), round(842 * 300 / 72))
    serial = first["words"][0]
    assert serial["text"] == "SERIAL" and serial["line"] == 0
    x0, _y0, x1, y1 = serial["box"]  # drawn at x = 72 pt, baseline y = 770 pt from the bottom
    assert abs(x0 - 300) < 10 and abs(y1 - (842 - 770) * 300 / 72) < 10 and x1 > x0


def test_scanned_pdf_is_ocred(spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path) -> None:
    path = render_scanned_pdf(tmp_path / "scan.pdf", [list(NAMEPLATE_LINES)])

    result = read(spec, path, tool_ctx, lang="eng")

    assert [p["source"] for p in result["pages"]] == ["ocr"]
    for expected in NAMEPLATE_LINES:
        assert expected in line_texts(result)


def test_pdf_mixing_text_and_scanned_pages(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    typed = render_pdf_with_text_layer(tmp_path / "typed.pdf", [["PART NO. 55-0192"]])
    scanned = render_scanned_pdf(tmp_path / "scanned.pdf", [["MODEL KX-200"]])
    path = merge_pdfs(tmp_path / "mixed.pdf", [typed, scanned])

    result = read(spec, path, tool_ctx)

    assert [(p["page"], p["source"]) for p in result["pages"]] == [(1, "text_layer"), (2, "ocr")]
    assert line_texts(result, 0) == ["PART NO. 55-0192"]
    assert "MODEL KX-200" in line_texts(result, 1)
    assert "[page 2, ocr]" in result["summary"]


def test_pdf_page_limit_is_respected_with_a_warning(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    path = render_pdf_with_text_layer(tmp_path / "long.pdf", [[f"PAGE {n}"] for n in range(1, 6)])
    ctx = dataclasses.replace(tool_ctx, max_pdf_pages=2)

    result = read(spec, path, ctx)

    assert [p["page"] for p in result["pages"]] == [1, 2]
    assert result["text"] == "PAGE 1\n\nPAGE 2"
    assert result["warnings"] == ["the PDF has 5 pages; only the first 2 were read"]
    assert "Warning: the PDF has 5 pages" in result["summary"]


def test_large_pdf_page_is_rendered_within_the_pixel_limit(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    path = render_scanned_pdf(tmp_path / "scan.pdf", [["MODEL KX-200"]], size=48)
    ctx = dataclasses.replace(tool_ctx, max_image_pixels=150_000)

    result = read(spec, path, ctx, lang="eng")

    page = result["pages"][0]
    assert page["width"] * page["height"] <= 150_000
    assert "MODEL KX-200" in line_texts(result)
    assert any("instead of 300" in w for w in result["warnings"])


def test_blank_image_is_an_empty_result_with_a_warning(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    path = tmp_path / "blank.png"
    Image.new("RGB", (640, 480), "white").save(path)

    result = read(spec, path, tool_ctx)

    assert result["text"] == "" and result["pages"][0]["lines"] == []
    assert result["confidence"] is None
    assert result["warnings"] == ["no text found"]
    assert result["summary"] == "No text found."


def _empty(tmp: Path) -> Path:
    (tmp / "empty.jpg").touch()
    return tmp / "empty.jpg"


def _truncated(tmp: Path, suffix: str) -> Path:
    whole = render_nameplate(tmp / f"whole{suffix}")
    cut = tmp / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return cut


def _text_named_jpg(tmp: Path) -> Path:
    (tmp / "plate.jpg").write_text("SERIAL NO. AX-4471-B\n")
    return tmp / "plate.jpg"


def _one_pixel(tmp: Path) -> Path:
    Image.new("RGB", (1, 1), "white").save(tmp / "dot.png")
    return tmp / "dot.png"


def _corrupt_pdf(tmp: Path) -> Path:
    (tmp / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage")
    return tmp / "broken.pdf"


TRUNCATED = "the image file is truncated or corrupt"
BAD_INPUTS = {
    "empty file": (_empty, "empty (0 bytes)"),
    "truncated PNG": (lambda tmp: _truncated(tmp, ".png"), TRUNCATED),
    "truncated JPEG": (lambda tmp: _truncated(tmp, ".jpg"), TRUNCATED),
    "text named .jpg": (_text_named_jpg, "plain text, whatever its name says"),
    "1x1 image": (_one_pixel, "only 1×1 pixels"),
    "bomb header": (lambda tmp: write_png_header(tmp / "bomb.png", 30_000, 30_000), "too large"),
    "corrupt PDF": (_corrupt_pdf, "corrupt or truncated"),
    "encrypted PDF": (lambda tmp: write_encrypted_pdf(tmp / "locked.pdf"), "password-protected"),
    "audio file": (lambda tmp: write_silent_wav(tmp / "memo.wav"), "OCR reads images and PDF"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_an_input_error_with_a_reason(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path, case: str
) -> None:
    make, reason = BAD_INPUTS[case]

    run: ToolRun = run_tool(spec, make(tmp_path), None, tool_ctx)

    assert run.ok is False
    assert run.error_kind == "input"
    assert reason in (run.error or "")


def test_image_over_the_pixel_limit_is_refused(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    path = render_nameplate(tmp_path / "plate.png")
    ctx = dataclasses.replace(tool_ctx, max_image_pixels=10_000)

    run = run_tool(spec, path, None, ctx)

    assert (run.ok, run.error_kind) == (False, "input")
    assert "over the limit of 10,000" in (run.error or "")


def test_unknown_language_is_refused(spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path) -> None:
    run = run_tool(spec, render_nameplate(tmp_path / "plate.png"), {"lang": "deu"}, tool_ctx)

    assert (run.ok, run.error_kind) == (False, "input")
    assert "lang" in (run.error or "")


def test_two_calls_at_once_both_succeed(
    spec: ToolSpec, tool_ctx: ToolContext, tmp_path: Path
) -> None:
    # OCR runs two calls concurrently; PDFium is not thread-safe, so this must not crash.
    scan = render_scanned_pdf(tmp_path / "scan.pdf", [["MODEL KX-200"], ["200V 50Hz"]])
    typed = render_pdf_with_text_layer(tmp_path / "typed.pdf", [list(NAMEPLATE_LINES)] * 3)

    with ThreadPoolExecutor(max_workers=2) as pool:
        calls = [scan, typed] * 2
        runs = list(pool.map(lambda p: run_tool(spec, p, {"lang": "eng"}, tool_ctx), calls))

    assert all(run.ok for run in runs), [run.error for run in runs if not run.ok]
    assert "200V 50Hz" in runs[0].result["text"] and "MODEL KX-200" in runs[1].result["text"]
