"""Make the gold set: fixture files whose right answers are known, and cases.json.

Run from the repository root:  .venv/bin/python eval/make_cases.py
Everything is generated here (Pillow nameplates and drawings, photo-like plates from
tests/fixtures/photos.py, flite / espeak-ng memos, the people photos that ship inside
Ultralytics), deterministically, so the set can be rebuilt bit for bit and nothing is
downloaded. The files are committed under
eval/cases/files so `jimoku eval` needs no generator at run time.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from tests.fixtures.audio import espeak_wav, flite_wav  # noqa: E402
from tests.fixtures.images import (  # noqa: E402
    NOTO_CJK,
    render_nameplate,
    render_pdf_with_text_layer,
    render_scanned_pdf,
)
from tests.fixtures.photos import DEGRADATIONS, Lang, render_photo_plate  # noqa: E402

CASES_DIR = ROOT / "eval" / "cases"
FILES = CASES_DIR / "files"
# The photo plates' seed: not 0 (tests/tools/test_ocr_photos.py) nor 1-2 (bench/perception.py's
# default --seeds 3), so the gold set does not hold the images the OCR engines were chosen on.
PHOTO_SEED = 3


def spell(code: str) -> str:
    """How a person reads a code aloud: "AX-4471" → "A X 4 4 7 1"."""
    return " ".join(c for c in code if c.isalnum())


def opus(wav: Path, out: Path, tempo: float = 1.0) -> Path:
    """Compress a memo as a phone app would (Ogg/Opus), optionally faster or slower."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-filter:a", f"atempo={tempo}",
                    "-c:a", "libopus", "-b:a", "24k", "-fflags", "+bitexact", "-flags:a", "+bitexact", str(out)], check=True)
    return out


def ultralytics_asset(name: str) -> Path:
    spec = importlib.util.find_spec("ultralytics")
    assert spec and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / name


def case(cid: str, kind: str, question: str, files: list[str], tools: list[list[str]], accept: list[str],
         conflict: bool = False, unanswerable: bool = False) -> dict[str, Any]:
    """One gold case: tools are (tool, file index) pairs; accept holds accepted answer values."""
    return {"id": cid, "kind": kind, "question": question, "files": files,
            "expected_tools": tools, "accept": accept, "conflict": conflict, "unanswerable": unanswerable}


def build(tmp: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []

    # Nameplates in English, at several qualities; every plate has its own values.
    plates = [("AX-4471-B", "KX-200", "clean"), ("BR-2290-C", "KX-350", "blur"), ("CM-7713-A", "LP-120", "noise"),
              ("DT-5058-E", "RZ-900", "tilt"), ("EV-3321-K", "MX-410", "lowres"), ("FN-8802-D", "HT-75", "shadow")]
    for i, (serial, model, quality) in enumerate(plates, start=1):
        name = f"plate_en_{i}_{quality}.png"
        render_nameplate(FILES / name, [f"SERIAL NO. {serial}", f"MODEL {model}", "200V 50Hz"], quality=quality)
        cases.append(case(f"plate-serial-{i}", "nameplate_en", "What is the serial number on this nameplate?",
                          [name], [["ocr", "f1"]], [serial]))
        if i <= 4:
            cases.append(case(f"plate-model-{i}", "nameplate_en", "Which model is on the plate?",
                              [name], [["ocr", "f1"]], [model]))

    for i in (1, 3):
        cases.append(case(f"plate-voltage-{i}", "nameplate_en", "What supply voltage does this machine need?",
                          [f"plate_en_{i}_{plates[i - 1][2]}.png"], [["ocr", "f1"]], ["200V", "200 V", "200 volts"]))

    # Japanese nameplates.
    for i, (serial, quality) in enumerate([("JK-1180", "clean"), ("JK-2291", "blur"), ("JK-3302", "noise"),
                                            ("JK-4413", "lowres")], start=1):
        name = f"plate_ja_{i}_{quality}.png"
        render_nameplate(FILES / name, [f"製造番号 {serial}", "定格 200V 50Hz"], font=NOTO_CJK, quality=quality)
        cases.append(case(f"plate-ja-{i}", "nameplate_ja", "この銘板の製造番号は何ですか？", [name], [["ocr", "f1"]], [serial]))

    # Hard photo-like plates: one per degradation (rotated 8°, perspective, motion blur, small
    # in a cluttered scene, uneven light), English and Japanese; a random serial code each.
    questions = {"en": "What is the serial number on this plate?", "ja": "この銘板の製造番号は何ですか？"}
    photo_kinds: tuple[tuple[Lang, str], ...] = (("en", "photo_plate"), ("ja", "photo_plate_ja"))
    for lang, kind in photo_kinds:
        for degradation in DEGRADATIONS:
            photo = render_photo_plate(tmp, lang, degradation, seed=PHOTO_SEED)
            name = f"photo_plate_{lang}_{degradation}.jpg"
            shutil.copyfile(photo.path, FILES / name)
            cases.append(case(f"photo-plate-{lang}-{degradation.replace('_', '-')}", kind, questions[lang],
                              [name], [["ocr", "f1"]], [photo.code]))

    # Drawings: title blocks with a part number, as a PDF with text and as a scan.
    for i, (part, scanned) in enumerate([("PN-2231-A", False), ("PN-4410-B", True), ("PN-5512-C", False),
                                          ("PN-6603-D", True)], start=1):
        name = f"drawing_{i}.pdf"
        lines = ["FLANGE ADAPTER", f"PART NO. {part}", "MATERIAL SS400", "SCALE 1:2", "DRAWN K. SATO"]
        (render_scanned_pdf if scanned else render_pdf_with_text_layer)(FILES / name, [lines])
        cases.append(case(f"drawing-{i}", "drawing", "What part number is on this drawing?", [name],
                          [["ocr", "f1"]], [part]))

    for i in (1, 2):
        cases.append(case(f"drawing-material-{i}", "drawing", "Which material does the drawing specify?",
                          [f"drawing_{i}.pdf"], [["ocr", "f1"]], ["SS400"]))

    # Voice memos: several voices and speeds, and the robotic espeak-ng.
    memos = [("slt", 1.0, "KX-200"), ("rms", 1.0, "LP-120"), ("awb", 1.0, "RZ-900"), ("slt", 1.25, "MX-410"),
             ("rms", 0.85, "HT-75"), ("espeak", 1.0, "KX-350")]
    for i, (voice, tempo, machine) in enumerate(memos, start=1):
        sentence = f"Machine {spell(machine)} is overheating on line {i}. Please send a technician."
        wav = tmp / f"memo_{i}.wav"
        espeak_wav(sentence, wav) if voice == "espeak" else flite_wav(sentence, wav, voice=voice)
        name = f"memo_{i}_{voice}.ogg"
        opus(wav, FILES / name, tempo)
        cases.append(case(f"memo-{i}", "memo", "Which machine does the memo say is overheating?", [name],
                          [["asr", "f1"]], [machine]))

    # People: the Ultralytics sample photos, and the bus photo on its side (a fallen-person proxy).
    shutil.copyfile(ultralytics_asset("bus.jpg"), FILES / "people_bus.jpg")
    shutil.copyfile(ultralytics_asset("zidane.jpg"), FILES / "people_zidane.jpg")
    Image.open(ultralytics_asset("bus.jpg")).rotate(90, expand=True).save(FILES / "people_bus_side.jpg", quality=90)
    cases += [
        case("people-count-1", "people", "How many people are in this photo?", ["people_bus.jpg"],
             [["detect", "f1"]], ["4", "four"]),
        case("people-count-2", "people", "How many people can you see?", ["people_zidane.jpg"],
             [["detect", "f1"]], ["2", "two"]),
        case("people-fall-1", "people", "Has anyone fallen down?", ["people_bus.jpg"], [["detect", "f1"]],
             ["no one", "nobody", "no,", "not", "none", "no "]),
        case("people-fall-2", "people", "Is anyone lying on the floor?", ["people_bus_side.jpg"], [["detect", "f1"]],
             ["yes", "fallen", "fall"]),
        case("people-stated-count", "people", "The shift lead says 6 workers are at the bus stop. Is that right?",
             ["people_bus.jpg"], [["detect", "f1"]], ["4", "four", "no"], conflict=True),
    ]

    # Memo + nameplate: agreeing and disagreeing serial numbers.
    pairs = [("AX-4471-B", "AX-4471-B"), ("BR-2290-C", "BR-2290-C"), ("CM-7713-A", "CM-7713-A"),
             ("AX-4471-B", "QZ-9012-F"), ("BR-2290-C", "TW-6650-H"), ("CM-7713-A", "PL-3345-M")]
    for i, (on_plate, spoken) in enumerate(pairs, start=1):
        plate = f"combo_plate_{i}.png"
        render_nameplate(FILES / plate, [f"SERIAL NO. {on_plate}", "MODEL KX-200", "200V 50Hz"])
        wav = tmp / f"combo_{i}.wav"
        flite_wav(f"The serial number of the machine I inspected is {spell(spoken)}.", wav, voice="slt")
        memo = f"combo_memo_{i}.ogg"
        opus(wav, FILES / memo)
        agree = on_plate == spoken
        cases.append(case(f"combo-{'agree' if agree else 'conflict'}-{i}", "memo+nameplate",
                          "Is the voice memo about the machine on this nameplate?", [memo, plate],
                          [["asr", "f1"], ["ocr", "f2"]], ["yes"] if agree else ["no", "not", "differ", "does not match"],
                          conflict=not agree))

    # Questions no tool can answer.
    cases += [
        case("unanswerable-colour", "unanswerable", "What colour is the machine's paint?", ["plate_en_1_clean.png"],
             [], ["does not show"], unanswerable=True),
        case("unanswerable-weight", "unanswerable", "How heavy is this machine in kilograms?",
             ["plate_en_2_blur.png"], [], ["does not show"], unanswerable=True),
        case("unanswerable-material", "unanswerable", "What is the colour of the helmet of the person on the left?",
             ["people_zidane.jpg"], [], ["does not show"], unanswerable=True),
    ]
    return cases


def main() -> None:
    if FILES.exists():
        shutil.rmtree(FILES)
    FILES.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        cases = build(Path(tmp))
    (CASES_DIR / "cases.json").write_text(json.dumps({"cases": cases}, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases and {len(list(FILES.iterdir()))} files to {CASES_DIR}")


if __name__ == "__main__":
    main()
