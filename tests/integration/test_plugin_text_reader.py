"""A plugin text reader, installed through the `jimoku.tools` entry-point group, is treated
exactly like the built-in `ocr`: grounding, the heard-vs-read conflict check, retrieval.

The plugin is a small stand-in OCR (Tesseract through pytesseract under another name),
built and pip-installed here; the memo is spoken by flite and heard by the real `asr`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine import Engine
from app.settings import Settings
from graphs.testing import ScriptedChatModel
from tests.fixtures.audio import flite_wav
from tests.fixtures.images import render_nameplate
from tools.plugins import load_plugins
from tools.registry import REGISTRY, Produces

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "jimoku-plate-reader"
version = "0.0.1"

[project.entry-points."jimoku.tools"]
plate_reader = "jimoku_plate_reader.tool"

[tool.setuptools]
packages = ["jimoku_plate_reader"]
"""

TOOL = '''
from pathlib import Path

import pytesseract
from PIL import Image

from jimoku import OcrLine, OcrPage, OcrResult, tool


@tool(accepts=["image"], produces="text", timeout=60)
def plate_reader(file: Path) -> OcrResult:
    """Read the text printed on a nameplate photo.

    Args:
        file: Photo of the plate.
    """
    image = Image.open(file).convert("L")
    lines = [line.strip() for line in pytesseract.image_to_string(image, config="--psm 6").splitlines()
             if line.strip()]
    page = OcrPage(page=1, source="ocr", engine="tesseract", width=image.width, height=image.height,
                   lines=[OcrLine(text=t, confidence=0.9, box=None) for t in lines])
    return OcrResult(text="\\n".join(lines), lang="eng", pages=[page], confidence=0.9,
                     summary=f"Read {len(lines)} lines: " + " | ".join(lines))
'''


@pytest.fixture(scope="module")
def plate_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("plate_reader")
    (root / "src" / "jimoku_plate_reader").mkdir(parents=True)
    (root / "src" / "pyproject.toml").write_text(PYPROJECT)
    (root / "src" / "jimoku_plate_reader" / "__init__.py").write_text("")
    (root / "src" / "jimoku_plate_reader" / "tool.py").write_text(TOOL)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "--target", str(root / "site"), str(root / "src")],
                   check=True, timeout=300)
    sys.path.insert(0, str(root / "site"))
    try:
        load_plugins(entry_points=True, allow={"plate_reader", "asr"})
        assert "plate_reader" in REGISTRY and REGISTRY.produces("plate_reader") is Produces.TEXT
        yield "plate_reader"
    finally:
        REGISTRY.remove("plate_reader")
        sys.path.remove(str(root / "site"))


@pytest.mark.slow
def test_plugin_reader_gets_grounding_and_the_heard_vs_read_conflict(plate_reader: str, tmp_path: Path) -> None:
    plate = render_nameplate(tmp_path / "plate.png")  # SERIAL NO. AX-4471-B
    memo = flite_wav("The serial number is B Q nine nine one two.", tmp_path / "memo.wav")
    plan = {"steps": [{"tool": plate_reader, "file": "f1"}, {"tool": "asr", "file": "f2"}]}
    draft = {"answer": "Both say the serial is AX-4471-B; it weighs 350 kg.", "citations": ["s1", "s2"],
             "answerable": True}
    engine = Engine(Settings(data_dir=tmp_path / "data", plugins="plate_reader,asr"),
                    llm=ScriptedChatModel([plan, draft, draft]))
    job = engine.submit("Does the memo give the serial on the plate?", [(plate, "p.png"), (memo, "m.wav")])
    engine.run(job.id)
    doc = engine.document(job.id)
    reader = doc["steps"][0]
    assert reader["tool"] == plate_reader and reader["produces"] == "text" and reader["ok"], reader["error"]
    assert "AX-4471-B" in reader["result"]["text"]
    kinds = [f["kind"] for f in doc["flags"]]
    # Read on the plate vs heard in the memo: compared like ocr vs asr.
    conflict = next(f for f in doc["flags"] if f["kind"] == "conflict")
    assert "AX-4471-B" in conflict["message"] and "9912" in conflict["message"]
    # Grounding: the weight appears in no tool result, read or heard.
    assert "unsupported_claim" in kinds
    assert doc["status"] == "awaiting_review"
