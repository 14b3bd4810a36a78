"""The files every stage reads: nameplates with known text, a spoken memo, a people photo.

Nameplates are rendered with the test fixtures' renderer; each call of `plate(tag)` gives
a plate with its own serial number, so no two jobs share a file (the result cache would
otherwise hide the tool's time). The memo is spoken by flite; the people photo is the
bus picture that ships inside Ultralytics.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.fixtures.audio import MEMO_TEXT, flite_wav
from tests.fixtures.images import render_nameplate

QUESTION = "What is the serial number on this plate?"
OPEN_QUESTION = "What does this plate say about the machine?"
"""A question for no labelled field: the LLM plans (an image could go to the text reader or
the detector) and drafts it, where QUESTION is planned and answered in code."""


def people_photo() -> Path:
    """bus.jpg from the installed Ultralytics package (4 people and a bus)."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("ultralytics is not installed; run ./run.sh test once to set up the venv")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "bus.jpg"


@dataclass
class Inputs:
    """Benchmark inputs inside `folder`."""

    folder: Path
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.nameplate = render_nameplate(self.folder / "nameplate.png")
        self.memo = flite_wav(MEMO_TEXT, self.folder / "memo.wav")
        self.people = people_photo()

    def plate(self, tag: str) -> Path:
        """A new nameplate with a serial number no other plate of this run has."""
        with self._lock:
            self._count += 1
            n = self._count
        lines = (f"SERIAL NO. AX-{n:04d}-B", f"MODEL KX-{200 + n % 700}", "200V 50Hz")
        return render_nameplate(self.folder / f"plate-{tag}.png", lines)


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
