"""Results as one JSON document and one Markdown table (`bench/results/<date>.{json,md}`).

Every stage returns a `Section`: table rows (what a person reads) and raw numbers (every
sample, for whoever wants to recompute). A row may carry a target and whether it is met.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One line of the results table."""

    area: str
    measure: str
    jimoku: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    """None when the row has no target, or the target could not be judged."""


@dataclass
class Section:
    """A stage's rows, its raw measurements and notes on how to read them."""

    name: str
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def document(sections: list[Section], meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON document: run metadata, then each section."""
    return {**meta, "sections": {s.name: asdict(s) for s in sections}}


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _met(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def table(doc: dict[str, Any]) -> str:
    """The Markdown table of every row, one section after another."""
    lines = ["| area | measure | jimoku | direct / baseline | ratio | target | met |",
             "|---|---|---|---|---|---|---|"]
    for section in doc["sections"].values():
        for r in section["rows"]:
            ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
            lines.append("| " + " | ".join(_cell(c) for c in (
                r["area"], r["measure"], r["jimoku"], r["baseline"], ratio, r["target"], _met(r["met"]))) + " |")
    return "\n".join(lines)


def markdown(doc: dict[str, Any]) -> str:
    """Header (when, mode, machine, load), the table, the targets and the notes."""
    m, load = doc["machine"], doc["load"]
    targets = [r for s in doc["sections"].values() for r in s["rows"] if r["met"] is not None]
    met = sum(1 for r in targets if r["met"])
    out = [
        f"# jimoku benchmark, {doc['started_at']} ({doc['mode']} run, {doc['wall_s']:.0f} s)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB RAM, Linux {m['kernel']}, "
        f"Python {m['python']}. Load (1-min average) before the run {load['load1_before']}, during it "
        f"mean {load['load1_mean']} / max {load['load1_max']}; CPU busy {load['cpu_busy_pct']} % of all "
        f"cores, of which other work on the machine {load['cpu_used_by_others_pct']} %.",
        "",
        table(doc),
        "",
        f"Targets met: {met} of {len(targets)}.",
    ]
    notes = [(name, n) for name, s in doc["sections"].items() for n in s["notes"]]
    if notes:
        out += ["", "Notes:"] + [f"- {name}: {n}" for name, n in notes]
    return "\n".join(out) + "\n"


def write(doc: dict[str, Any], out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write `<stem>.json` and `<stem>.md` into `out_dir`; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown(doc), encoding="utf-8")
    return json_path, md_path
