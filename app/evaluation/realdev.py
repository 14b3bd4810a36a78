"""The real-media development set (`../shared/realdev`, see its README.md), read in place.

Its media are not ours to copy (several licences are non-commercial or unstated), so the
loader resolves every file inside the set's folder and nothing is written to the repository.
A realdev case becomes the same `GoldCase` the gold set uses, with `reject`, `hard` and
`expected_families` filled in; `score_case` scores it by the rule below instead of the gold
set's.

Scoring (the set's README, "Scoring rule", verbatim in `norm` / `is_right`):
- answer: right when some `accept` string occurs in the answer after NFKC, case-folding and
  removing spaces, dashes and punctuation; wrong whenever a `reject` word or phrase occurs
  as a whole word (no ASCII letter or digit directly before or after it). Reject overrides.
- tools: precision and recall over the families (`ocr`, `asr`, `detect`) of the steps that
  actually ran vs `expected_tools`; a step's family comes from what its tool produces
  (`tools.registry.Produces`), so a plugin OCR engine counts as `ocr`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.evaluation.cases import GoldCase
from tools.registry import Produces

FAMILIES = ("ocr", "asr", "detect")
FAMILY_OF: dict[str, str] = {Produces.TEXT.value: "ocr", Produces.TRANSCRIPT.value: "asr",
                             Produces.DETECTIONS.value: "detect"}
"""A step's `produces` → its tool family; anything else counts under the tool's own name."""

REQUIRED = ("id", "kind", "question", "files", "expected_tools", "accept", "reject",
            "conflict", "unanswerable", "hard")


def norm(s: str) -> str:
    """NFKC, case-folded, without spaces, punctuation (dashes included) and wave dashes."""
    s = unicodedata.normalize("NFKC", s).casefold()
    return "".join(c for c in s if not (c.isspace() or unicodedata.category(c)[0] in "PZ" or c in "~～〜"))


def reject_hits(answer: str, reject: Iterable[str]) -> list[str]:
    """The reject words or phrases present in `answer` as whole words (case-insensitive)."""
    a = unicodedata.normalize("NFKC", answer).casefold()
    return [w for w in reject
            if re.search(r"(?<![A-Za-z0-9])" + re.escape(w.casefold()) + r"(?![A-Za-z0-9])", a)]


def is_right(accept: Sequence[str], reject: Sequence[str], answer: str) -> bool:
    """The realdev answer rule: a reject hit makes it wrong, else any accept hit makes it right."""
    if reject_hits(answer, reject):
        return False
    return any(norm(x) in norm(answer) for x in accept)


def family(step: Mapping[str, Any]) -> str:
    """The tool family of one step of a job document: by what its tool produces
    (`step["produces"]`), falling back to the tool's name when the step does not say."""
    produces = step.get("produces")
    if produces is not None and str(produces) in FAMILY_OF:
        return FAMILY_OF[str(produces)]
    return str(step.get("tool", ""))


def called_families(doc: Mapping[str, Any]) -> list[str]:
    """Families of the tools that ran in a job (its `steps`, every round, failed ones too)."""
    return sorted({family(s) for s in doc.get("steps", []) or []})


def family_pr(called: Iterable[str], expected: Iterable[str]) -> tuple[float, float]:
    """(precision, recall) of one case. Both empty counts 1 for both; more generally an
    empty called set has nothing wrong in it (precision 1) and an empty expected set has
    nothing to miss (recall 1)."""
    c, e = set(called), set(expected)
    hit = len(c & e)
    return (hit / len(c) if c else 1.0), (hit / len(e) if e else 1.0)


def load_realdev(root: Path, only: set[str] | None = None) -> list[GoldCase]:
    """Cases of `root/cases.json` (a list, or `{"cases": [...]}`), files resolved under `root`."""
    path = root / "cases.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; pass the realdev folder with --realdev PATH")
    doc = json.loads(path.read_text(encoding="utf-8"))
    items = doc["cases"] if isinstance(doc, dict) else doc
    out = []
    for c in items:
        lacking = [k for k in REQUIRED if k not in c]
        if lacking:
            raise ValueError(f"realdev case {c.get('id', '?')}: missing {lacking}")
        if only and c["id"] not in only and c["kind"] not in only:
            continue
        unknown = sorted(set(c["expected_tools"]) - set(FAMILIES))
        if unknown:
            raise ValueError(f"realdev case {c['id']}: unknown tool families {unknown}; use {list(FAMILIES)}")
        files = tuple((root / name).resolve() for name in c["files"])
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"realdev case {c['id']}: missing {missing}")
        out.append(GoldCase(
            id=c["id"], kind=c["kind"], question=c["question"], files=files, expected_tools=frozenset(),
            accept=tuple(c["accept"]), conflict=bool(c["conflict"]), unanswerable=bool(c["unanswerable"]),
            reject=tuple(c["reject"]), hard=bool(c["hard"]),
            expected_families=frozenset(c["expected_tools"]), set="realdev",
        ))
    return out
