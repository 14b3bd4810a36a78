"""`jimoku eval`: measure the planner, tools and checks on the gold set and the real-media
development set (`../shared/realdev`, read in place: its media are not ours to copy)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from app.evaluation.cases import GoldCase, load_cases
from app.evaluation.metrics import CaseScore, as_dicts, summarise
from app.evaluation.realdev import load_realdev
from app.evaluation.report import markdown, write
from app.evaluation.runner import run_cases, settings_for
from app.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REALDEV = ROOT / ".." / "shared" / "realdev"
SETS = ("gold", "realdev")


class EvalSet(StrEnum):
    gold = "gold"
    realdev = "realdev"
    both = "both"


def evaluate(
    cases: Annotated[Path, typer.Option(help="Folder with cases.json and files/.")] = Path("eval/cases"),
    model: Annotated[list[Path], typer.Option(help="Planner GGUF; repeat to compare models side by side.")] = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("eval/results"),
    only: Annotated[list[str], typer.Option(help="Only these case ids or kinds.")] = [],  # noqa: B006
    which: Annotated[EvalSet | None, typer.Option(
        "--set", help="gold, realdev or both (default: both when the realdev folder exists, else gold).",
    )] = None,
    realdev: Annotated[Path, typer.Option(
        help="The real-media development set (cases.json + media/), read in place.",
    )] = DEFAULT_REALDEV,
    stem: Annotated[str | None, typer.Option(help="Report file name without extension (default: today's date).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="Keep the run's data folder here (default: a fresh temporary one). Its tool-result cache "
             "then serves the next run: a re-run after a prompt change costs only the LLM work.",
    )] = None,
) -> None:
    """Run every case through the graph; print and write the report (JSON, Markdown, PNG)."""
    realdev = realdev.resolve()
    chosen = which or (EvalSet.both if (realdev / "cases.json").is_file() else EvalSet.gold)
    wanted = SETS if chosen is EvalSet.both else (chosen.value,)
    picked = set(only) or None
    by_set: dict[str, list[GoldCase]] = {}
    if "gold" in wanted:
        by_set["gold"] = load_cases(cases, picked)
    if "realdev" in wanted:
        by_set["realdev"] = load_realdev(realdev, picked)
    for name in [n for n, c in by_set.items() if not c]:
        if picked and len(wanted) > 1:
            typer.echo(f"== {name}: no case matches --only; skipped", err=True)
            del by_set[name]
    if not any(by_set.values()):
        raise typer.BadParameter(f"no case to run in {', '.join(wanted)}" + (" matching --only" if picked else ""))
    every = [c for cs in by_set.values() for c in cs]
    base = get_settings()
    models: list[Path | None] = list(model) or [None]
    runs = []
    for m in models:
        name = m.name if m else "default (Qwen2.5-Coder-1.5B Q4_K_M)"
        typer.echo(f"== {name}: " + ", ".join(f"{s} {len(c)} cases" for s, c in by_set.items()), err=True)

        def progress(s: CaseScore) -> None:
            tools = s.planned if s.set == "gold" else s.families
            typer.echo(f"{s.set:<7} {s.id:<26} {'ok ' if s.correct else 'BAD'} {s.seconds:6.1f}s  "
                       f"tools={tools} flags={s.flags}" + (f" rounds={s.rounds}" if s.rounds > 1 else ""), err=True)

        with tempfile.TemporaryDirectory(prefix="jimoku-eval-") as tmp:
            folder = data_dir / (m.stem if m else "default") if data_dir else Path(tmp)
            # One warm engine for both sets, as the service would be.
            scores = run_cases(every, settings=settings_for(base, m, folder), progress=progress)
        for set_name in by_set:
            mine = [s for s in scores if s.set == set_name]
            runs.append({"model": name, "set": set_name, "source": str(cases if set_name == "gold" else realdev),
                         "summary": summarise(mine), "cases": as_dicts(mine)})
    paths = write(runs, out, stem or datetime.now(UTC).strftime("%Y-%m-%d"))
    typer.echo(markdown(runs).split("\n## ")[0])
    typer.echo(f"report: {paths['md']}, {paths['json']}, {paths['png']}")
