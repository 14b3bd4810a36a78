"""`jimoku audit …`: check the hash-chained audit log (app/store/audit.py) and print its head."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.settings import get_settings
from app.store.audit import AuditLog
from app.store.migrations import database_for

audit_app = typer.Typer(help="The tamper-evident audit log: verify the chain, show its head or entries.",
                        no_args_is_help=True)


def _log() -> AuditLog:
    return AuditLog(database_for(get_settings()))


@audit_app.command("verify")
def verify(
    head: Annotated[str | None, typer.Option(
        help="A chain head hash kept elsewhere (an export, `jimoku audit head`): its entry must still be there.")] = None,
) -> None:
    """Walk the chain; name the first broken entry and exit 1 when one is found."""
    result = _log().verify()
    if not result.ok:
        typer.echo(f"audit chain BROKEN at entry {result.broken_seq}: {result.problem} "
                   f"({result.entries} entries before it hold)", err=True)
        raise typer.Exit(1)
    if head is not None and not _has(head):
        typer.echo(f"audit chain holds {result.entries} entries, but no entry has the hash {head}: entries were "
                   "removed from the end, or the head is from another database", err=True)
        raise typer.Exit(1)
    last = result.head or {"seq": 0, "hash": "-"}
    typer.echo(f"audit chain intact: {result.entries} entries, head {last['seq']} {last['hash']}")


@audit_app.command("head")
def show_head() -> None:
    """Print the newest entry's seq and hash (keep it elsewhere to detect truncation later)."""
    typer.echo(json.dumps(_log().head()))


@audit_app.command("list")
def list_entries(after: Annotated[int, typer.Option(help="Entries after this seq.")] = 0,
                 limit: Annotated[int, typer.Option(help="At most this many.")] = 100) -> None:
    """Print entries as JSON lines, oldest first."""
    for entry in _log().entries(after=after, limit=limit):
        typer.echo(json.dumps(entry, ensure_ascii=False))


def _has(hash_: str) -> bool:
    log = _log()
    return log.db.one("SELECT 1 FROM audit_chain WHERE hash = ?", (hash_,)) is not None
