"""`jimoku db …` (schema migrations) and `jimoku worker` (a distributed worker on PostgreSQL)."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from app.settings import get_settings
from app.store.db import open_for
from app.store.migrations import pending, upgrade

db_app = typer.Typer(help="The database: schema status and upgrade.", no_args_is_help=True)


@db_app.command("status")
def status() -> None:
    """Which database is in use and which migrations it still needs."""
    db = open_for(get_settings())
    todo = pending(db)
    typer.echo(f"{db.dialect}: " + (f"{len(todo)} migration(s) pending: {todo}" if todo else "up to date"))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (also done by `serve` and `worker` on start; safe to run at once
    on several machines)."""
    # Imported for what they register with the migrations: their PostgreSQL schemas (the queue's,
    # the checkpointer's) are set up by the same command.
    from app import queue as _queue  # noqa: F401
    from app.store import checkpointers as _checkpointers  # noqa: F401

    db = open_for(get_settings())
    applied = upgrade(db)
    typer.echo(f"{db.dialect}: applied {applied}" if applied else f"{db.dialect}: up to date")


@db_app.command("prune")
def db_prune(
    days: Annotated[float | None, typer.Option(
        help="Keep this many days (default: JIMOKU_RETENTION_DAYS; 0 keeps everything).")] = None,
) -> None:
    """Delete finished jobs' uploaded files and event-log rows older than the retention period (jobs,
    decisions and outcomes are kept; nothing of a queued, running or awaiting job is touched)."""
    from app.retention import prune
    from app.store.stores import open_stores

    settings = get_settings()
    stores = open_stores(settings)
    try:
        report = prune(stores.db, stores.artifacts, days=settings.retention_days if days is None else days)
    finally:
        stores.close()
    if report is None:
        typer.echo("retention is off (0 days): nothing deleted")
        return
    typer.echo(f"before {report.before}: {report.jobs} finished job(s) pruned, {report.files} file(s) deleted "
               f"({report.bytes / 1e6:.1f} MB), {report.kept_shared} kept (held by newer jobs), "
               f"{report.events} event-log row(s) deleted")


def worker(
    queues: Annotated[str | None, typer.Option(
        help="Comma-separated queues to take work from: `jobs` (plans, drafts, review resumes) and tool "
             "resource classes (`cpu`, `gpu`, …). Unset: all, and every tool runs here.")] = None,
    concurrency: Annotated[int, typer.Option(help="Tasks run at once by this worker.")] = 1,
) -> None:
    """Run a distributed worker (needs JIMOKU_DATABASE_URL): takes jobs from PostgreSQL until stopped."""
    from app.engine import Engine
    from app.queue import JOB_QUEUE, ProcrastinateQueue, make_app, serve

    settings = get_settings()
    if not settings.database_url:
        typer.echo("error: `jimoku worker` needs JIMOKU_DATABASE_URL (a postgresql:// URL); on one machine "
                   "`jimoku serve` runs jobs itself", err=True)
        raise typer.Exit(2)
    from app.store.stores import private_data_dir

    private_data_dir(settings.data_dir)
    logging.getLogger("app").setLevel(logging.INFO)
    names = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    app = make_app(settings.database_url)
    served = None if names is None else {q for q in names if q != JOB_QUEUE}
    if settings.database_pool_size < concurrency + 4:  # each running job holds a connection (its lock)
        settings = settings.model_copy(update={"database_pool_size": concurrency + 4})
    resources = json.loads(settings.tool_resources or "{}")
    engine = Engine(settings, queue=lambda e: ProcrastinateQueue(
        app, results=e.cache, served=served, step_wait_seconds=settings.step_wait_seconds, resources=resources))
    typer.echo(f"worker on {', '.join(names) if names else 'all queues'} (concurrency {concurrency})", err=True)
    serve(engine, app, names, concurrency)
