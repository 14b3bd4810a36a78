"""The gold cases (eval/cases/cases.json, made by eval/make_cases.py); the real-media
development set has its own loader in `app.evaluation.realdev` and yields the same objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GoldCase:
    """A question, its files, and what a right run looks like."""

    id: str
    kind: str
    question: str
    files: tuple[Path, ...]
    expected_tools: frozenset[tuple[str, str]]
    """(tool, file id) pairs the planner should choose; file ids are f1, f2, … in order.
    Empty for a realdev case, which names tool families instead (`expected_families`)."""
    accept: tuple[str, ...]
    """Any of these in the draft answer makes it right."""
    conflict: bool
    unanswerable: bool
    reject: tuple[str, ...] = ()
    """Any of these, as a whole word, in the answer makes it wrong (realdev only)."""
    hard: bool = False
    """The raw tools get it wrong; reported apart (realdev only)."""
    expected_families: frozenset[str] | None = None
    """Tool families (`ocr`, `asr`, `detect`) a right run calls. None for a gold case, whose
    tools are scored as (tool, file) pairs of the plan; set for a realdev case, whose tools
    are scored by family over the steps that ran (see `app.evaluation.realdev`)."""
    set: str = "gold"
    """Which set the case comes from: "gold" or "realdev"."""


def load_cases(cases_dir: Path, only: set[str] | None = None) -> list[GoldCase]:
    """Cases of `cases_dir/cases.json`, files resolved under `cases_dir/files`."""
    doc = json.loads((cases_dir / "cases.json").read_text())
    out = []
    for c in doc["cases"]:
        if only and c["id"] not in only and c["kind"] not in only:
            continue
        files = tuple(cases_dir / "files" / name for name in c["files"])
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"case {c['id']}: missing {missing}; run eval/make_cases.py")
        out.append(GoldCase(
            id=c["id"], kind=c["kind"], question=c["question"], files=files,
            expected_tools=frozenset((t, f) for t, f in c["expected_tools"]), accept=tuple(c["accept"]),
            conflict=bool(c["conflict"]), unanswerable=bool(c["unanswerable"]),
        ))
    return out
