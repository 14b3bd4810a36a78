"""`jimoku policy …` and `jimoku export`: the review policy and the review history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.policy_stats import propose_threshold
from app.settings import get_settings
from app.store.audit import AuditLog
from app.store.db import Database
from app.store.migrations import database_for
from app.store.outcomes import OutcomeStore
from app.store.policies import PolicyStore

policy_app = typer.Typer(help="The review policy: show, change, propose a threshold.", no_args_is_help=True)


def _db() -> Database:
    return database_for(get_settings())


@policy_app.command("show")
def show(history: Annotated[bool, typer.Option(help="Every version, newest first.")] = False) -> None:
    """Print the policy in force (or its history) as JSON."""
    store = PolicyStore(_db())
    if history:
        typer.echo(json.dumps(store.history(), indent=2, ensure_ascii=False))
        return
    policy, version = store.current()
    typer.echo(json.dumps({"version": version, "policy": policy.model_dump()}, indent=2, ensure_ascii=False))


@policy_app.command("set")
def set_(
    min_confidence: Annotated[str | None, typer.Option(help="Auto-approval threshold 0..1, or 'off'.")] = None,
    audit_rate: Annotated[float | None, typer.Option(help="Share of automatic jobs audited (0..1).")] = None,
    always_review_tool: Annotated[list[str], typer.Option(help="A tool whose jobs always go to a person.")] = [],  # noqa: B006
    resume_kind: Annotated[list[str], typer.Option(help="Lift the automation pause of a case kind.")] = [],  # noqa: B006
    fingerprint: Annotated[str | None, typer.Option(
        help="'required': API decisions must send the job's fingerprint; 'optional': old clients may omit it.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the history).")] = None,
    by: Annotated[str, typer.Option(help="Who changes it.")] = "cli",
) -> None:
    """Change the policy (a new version)."""
    store = PolicyStore(_db())
    policy, _ = store.current()
    update: dict[str, object] = {}
    if min_confidence is not None:
        update["auto_approve_min_confidence"] = None if min_confidence == "off" else float(min_confidence)
    if audit_rate is not None:
        update["audit_rate"] = audit_rate
    if always_review_tool:
        update["always_review_tools"] = sorted(set(policy.always_review_tools) | set(always_review_tool))
    if resume_kind:
        update["paused_case_kinds"] = {k: v for k, v in policy.paused_case_kinds.items() if k not in resume_kind}
    if fingerprint is not None:
        if fingerprint not in ("required", "optional"):
            raise typer.BadParameter("give 'required' or 'optional'", param_hint="--fingerprint")
        update["require_fingerprint"] = fingerprint == "required"
    new = type(policy).model_validate(policy.model_dump() | update)
    typer.echo(f"policy version {store.put(new, changed_by=by, reason=reason)}")


@policy_app.command("propose")
def propose(
    min_precision: Annotated[float, typer.Option(help="Precision the automatic answers must keep.")] = 0.98,
    min_support: Annotated[int, typer.Option(help="Reviewed drafts needed above the threshold.")] = 30,
) -> None:
    """Suggest the lowest auto-approval threshold the review history supports."""
    p = propose_threshold(OutcomeStore(_db()).reviewed_history(), min_precision=min_precision, min_support=min_support)
    if p.threshold is None:
        typer.echo(f"no proposal: {p.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"proposed threshold {p.threshold:.3f}: {p.reason}; would automate {p.automation_rate:.0%} of reviewed drafts")
    typer.echo(f"apply it with: jimoku policy set --min-confidence {p.threshold:.3f} --reason 'proposal at {min_precision}'")


def export(
    out: Annotated[Path, typer.Option(help="File to write (JSONL).")] = Path("reviews.jsonl"),
    since: Annotated[str | None, typer.Option(help="Only jobs finished at or after this ISO time.")] = None,
) -> None:
    """Export reviewed jobs (question, evidence, draft, final, decision) as JSONL."""
    records = OutcomeStore(_db()).export(since=since)
    with out.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    # The audit chain's head beside the records: kept with the export, it later shows whether the
    # chain was cut back or rewritten (`jimoku audit verify --head HASH`).
    head = AuditLog(_db()).head()
    head_file = out.with_name(out.name + ".audit-head.json")
    head_file.write_text(json.dumps({"audit_chain_head": head, "records": len(records)}) + "\n", encoding="utf-8")
    typer.echo(f"wrote {len(records)} reviewed job(s) to {out}; audit chain head "
               f"{head['seq'] if head else 0} {head['hash'] if head else '-'} in {head_file}")
