"""`jimoku eval`: measure the planner, tools and checks on the gold set."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from app.evaluation.cases import load_cases
from app.evaluation.metrics import CaseScore, as_dicts, summarise
from app.evaluation.report import markdown, write
from app.evaluation.runner import run_cases, settings_for
from app.settings import get_settings


def evaluate(
    cases: Annotated[Path, typer.Option(help="Folder with cases.json and files/.")] = Path("eval/cases"),
    model: Annotated[list[Path], typer.Option(help="Planner GGUF; repeat to compare models side by side.")] = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("eval/results"),
    only: Annotated[list[str], typer.Option(help="Only these case ids or kinds.")] = [],  # noqa: B006
) -> None:
    """Run every gold case through the graph; print and write the report (JSON, Markdown, PNG)."""
    gold = load_cases(cases, set(only) or None)
    base = get_settings()
    models: list[Path | None] = list(model) or [None]
    runs = []
    for m in models:
        name = m.name if m else "default (Qwen2.5-Coder-1.5B Q4_K_M)"
        typer.echo(f"== {name}: {len(gold)} cases", err=True)

        def progress(s: CaseScore) -> None:
            typer.echo(f"{s.id:<24} {'ok ' if s.correct else 'BAD'} {s.seconds:6.1f}s  planned={s.planned} "
                       f"flags={s.flags}", err=True)

        with tempfile.TemporaryDirectory(prefix="jimoku-eval-") as tmp:
            scores = run_cases(gold, settings=settings_for(base, m, Path(tmp)), progress=progress)
        runs.append({"model": name, "summary": summarise(scores), "cases": as_dicts(scores)})
    stem = datetime.now(UTC).strftime("%Y-%m-%d")
    paths = write(runs, out, stem)
    typer.echo(markdown(runs).split("\n## ")[0])
    typer.echo(f"report: {paths['md']}, {paths['json']}, {paths['png']}")
