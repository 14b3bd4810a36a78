"""`jimoku ask`, `jimoku review`, `jimoku jobs`, `jimoku resume`: the graph in-process."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from app.engine import Engine
from app.errors import Conflict, JobRejected
from app.settings import get_settings
from graphs.extractive import answered_in_code
from graphs.planner import code_plan
from tools.errors import ToolInputError
from tools.files import sniff_kind

log = logging.getLogger(__name__)


def _engine() -> Engine:
    return Engine(get_settings())


def _print(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    typer.echo(f"job {doc['id']}: {doc['status']}" + (f" ({doc['error']})" if doc["error"] else ""))
    typer.echo(f"question: {doc['question']}")
    for step in doc["plan"]:
        typer.echo(f"plan {step['id']}: {step['tool']} on {step['file']} {step['args'] or ''} [{step['origin']}]")
    for note in doc["plan_notes"]:
        typer.echo(f"  note: {note}")
    for s in doc["steps"]:
        outcome = s["summary"].splitlines()[0] if s["ok"] and s["summary"] else f"ERROR {s['error']}"
        typer.echo(f"step {s['step']}: {s['tool']} on {s['file']} {s['duration_ms']:.0f} ms"
                   f"{' (cached)' if s['cached'] else ''}: {outcome}")
    if doc["draft_answer"] is not None:
        typer.echo(f"draft: {doc['draft_answer']}  [cites {', '.join(doc['citations']) or 'nothing'}]")
    for f in doc["flags"]:
        typer.echo(f"flag {f['kind']}: {f['message']}")
    if doc["confidence"] is not None:
        typer.echo(f"confidence: {doc['confidence_explained']}")
    if doc["final_answer"] is not None:
        typer.echo(f"final: {doc['final_answer']}")
    if doc["status"] == "awaiting_review":
        typer.echo(f"waiting for review: jimoku review {doc['id']} --approve | --edit TEXT | --reject REASON")


def _process_seconds() -> float | None:
    """Seconds since this process started (Linux /proc), so a user's wait includes the imports."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 2)


def _load_planner_early(engine: Engine, question: str, files: list[Path]) -> threading.Thread | None:
    """Start loading the planner beside intake, the file glance and the tools, when the job will
    need it: a plan or a draft that code does not write. None when it will not, or may not.

    A fresh process otherwise loads the model only when the first LLM call asks for it, and the
    user waits for the load on top of everything before it. A job that needs no LLM (a field
    question planned and answered in code) does not load it at all, as before.
    """
    if engine.settings.field_plans and engine.settings.extractive_answers and answered_in_code(question):
        return None  # usually answered in code; if not, the draft loads the planner as before
    try:
        kinds = [sniff_kind(f).value for f in files]
    except ToolInputError:
        return None  # intake refuses the file and says why; no model is needed for that
    attachments: list[Any] = [{"id": f"f{i}", "kind": kind} for i, kind in enumerate(kinds, 1)]
    in_code = engine.settings.field_plans and code_plan(question, attachments, engine.registry) is not None
    purposes = ("draft",) if in_code else ("plan", "draft")  # the plan's context first: it is needed first
    # Any failure here is the job's to report, when its own call to the planner meets it.
    try:
        llm = engine.llm
    except Exception:
        return None

    def load() -> None:
        try:
            llm.load(purposes)
        except Exception:
            log.debug("loading the planner early failed", exc_info=True)

    loader = threading.Thread(target=load, name="planner-load", daemon=True)
    loader.start()
    return loader


def _timing(engine: Engine, job_id: str, job_s: float, *, early: bool) -> dict[str, Any]:
    """Where a one-shot `ask` spent its time: the process so far, the job, the planner's load
    (however much of it ran beside the job's first steps)."""
    loaded = getattr(engine.llm, "load_ms", None) if "llm" in engine.__dict__ else None
    load_ms = float(sum(loaded.values())) if isinstance(loaded, dict) else 0.0
    if not isinstance(loaded, dict):  # a model that does not record its loads: the calls' own figures
        for event in engine.events.since(job_id):
            calls = event["data"].get("llm") if isinstance(event["data"], dict) else None
            calls = calls if isinstance(calls, list) else [calls]  # a plan has one call, a draft a list
            load_ms += sum(float(call.get("load_ms", 0.0)) for call in calls if call)
    return {"process_s": _process_seconds(), "job_s": round(job_s, 2), "planner_load_s": round(load_ms / 1000, 2),
            "planner_loaded_early": early}


def ask(
    question: Annotated[str, typer.Argument(help="What you want to know.")],
    files: Annotated[list[Path], typer.Argument(help="Photos, PDFs, voice memos.", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Skip review when nothing is flagged.")] = False,
) -> None:
    """Run the whole graph on a question and files; stops at review unless auto-approved."""
    engine = _engine()
    started = time.perf_counter()
    loader = _load_planner_early(engine, question, files)
    try:
        job = engine.submit(question, [(f, f.name) for f in files], auto_approve=auto_approve)
        job = engine.run(job.id)
    except JobRejected as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        if loader is not None:
            loader.join()  # never leave the process while llama.cpp is still reading the model
    early = loader is not None
    timing = _timing(engine, job.id, time.perf_counter() - started, early=early)
    doc = engine.document(job.id)
    _print({**doc, "timing": timing} if as_json else doc, as_json)
    if not as_json:
        load = (f", the planner loaded in {timing['planner_load_s']:.1f} s"
                + (" beside the job's first steps" if early else " within it")) if timing["planner_load_s"] else ""
        since = f"; {timing['process_s']:.1f} s since the command started" if timing["process_s"] else ""
        typer.echo(f"time: the job {timing['job_s']:.1f} s{load}{since}")
    if job.status == "failed":
        raise typer.Exit(1)


def review(
    job_id: Annotated[str, typer.Argument(help="The job waiting for review.")],
    approve: Annotated[bool, typer.Option("--approve", help="Accept the draft as final.")] = False,
    edit: Annotated[str | None, typer.Option("--edit", help="Replace the draft with this answer.")] = None,
    reject: Annotated[str | None, typer.Option("--reject", help="Reject, with the reason.")] = None,
    reviewer: Annotated[str, typer.Option(help="Who decides.")] = "cli",
    fingerprint: Annotated[str | None, typer.Option(
        help="The job's fingerprint as you saw it (GET /v1/jobs/ID): refused if the job changed since.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Approve, edit or reject a job waiting for review."""
    chosen = [x for x in (approve or None, edit, reject) if x]
    if len(chosen) != 1:
        typer.echo("error: give exactly one of --approve, --edit TEXT, --reject REASON", err=True)
        raise typer.Exit(2)
    if approve:
        decision: dict[str, Any] = {"decision": "approve"}
    elif edit:
        decision = {"decision": "edit", "answer": edit}
    else:
        decision = {"decision": "reject", "comment": reject}
    decision["reviewer"] = reviewer
    if fingerprint:
        decision["fingerprint"] = fingerprint
    engine = _engine()
    try:
        job = engine.review(job_id, decision)
    except KeyError:
        typer.echo(f"error: no job {job_id}", err=True)
        raise typer.Exit(2) from None
    except (Conflict, JobRejected) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _print(engine.document(job.id), as_json)


def jobs(status: Annotated[str | None, typer.Option(help="Only jobs in this state.")] = None) -> None:
    """List jobs, oldest first."""
    for job in _engine().jobs.list(status=status, limit=1000):
        typer.echo(f"{job.id}  {job.status:<16} {job.created_at}  {job.question[:60]}")


def resume() -> None:
    """Continue every job a stopped process left queued or running."""
    for job in _engine().recover():
        typer.echo(f"{job.id}: {job.status}" + (f" ({job.error})" if job.error else ""))
