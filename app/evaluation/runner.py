"""Run gold and realdev cases through the same engine and graph the service uses."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.evaluation.cases import GoldCase
from app.evaluation.metrics import CaseScore, score_case
from app.settings import Settings


def run_cases(
    cases: Sequence[GoldCase],
    *,
    settings: Settings,
    progress: Callable[[CaseScore], None] = lambda s: None,
) -> list[CaseScore]:
    """Each case as one job (no auto-approval: the draft as a reviewer would see it), all in
    one warm engine. A case whose files the service refuses counts as a failed job."""
    from app.engine import Engine, JobRejected  # here, so scoring and `--help` need no models or stores

    engine = Engine(settings)
    engine.llm.load()  # a warm model, as in the service
    scores = []
    for case in cases:
        started = time.perf_counter()
        doc: dict[str, Any]
        try:
            job = engine.submit(case.question, [(f, f.name) for f in case.files])
        except JobRejected as exc:
            doc = {"status": "failed", "error": f"rejected at submission: {exc}"}
        else:
            engine.run(job.id)
            doc = engine.document(job.id)
            if "rounds" not in doc:  # the graph state has them even where the document does not
                doc["rounds"] = engine.state(job.id).get("rounds") or []
        score = score_case(case, doc, time.perf_counter() - started)
        progress(score)
        scores.append(score)
    return scores


def settings_for(base: Settings, model: Path | None, data_dir: Path) -> Settings:
    """The service's settings with another planner model and a fresh data folder."""
    return base.model_copy(update={"planner_model": model, "data_dir": data_dir})
