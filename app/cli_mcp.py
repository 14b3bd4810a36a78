"""`jimoku mcp`: the MCP server over stdio, for AI assistants on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from app.settings import get_settings


def _default_url() -> str:
    settings = get_settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def mcp(
    url: Annotated[str | None, typer.Option(envvar="JIMOKU_URL", help="The running service "
                                            "(default http://JIMOKU_HOST:JIMOKU_PORT).")] = None,
    api_key: Annotated[str, typer.Option(envvar="JIMOKU_API_KEY", show_default=False, show_envvar=True,
                                         help="The API key calls are made with; set JIMOKU_API_KEY rather than "
                                              "putting a key on a command line.")] = "",
) -> None:
    """Serve jimoku's tools, `ask`, `job` and (reviewer keys) `reviews` over MCP on stdin/stdout."""
    # The MCP SDK loads only for this command, not for every `jimoku` call.
    import anyio
    import httpx

    from app.mcp import stdio
    from app.mcp.rest import ApiError

    url = (url or _default_url()).rstrip("/")
    if not api_key:
        typer.echo("error: set JIMOKU_API_KEY to a jimoku API key (`jimoku keys create --role submitter`)", err=True)
        raise typer.Exit(2)
    try:
        me = anyio.run(stdio.check_key, url, api_key)
    except ApiError as exc:
        typer.echo(f"error: {url} refused the key: {exc}", err=True)
        raise typer.Exit(2) from None
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach jimoku at {url} ({exc}); start it with `jimoku serve` or set JIMOKU_URL",
                   err=True)
        raise typer.Exit(2) from None
    typer.echo(f"jimoku MCP server on stdio: {url}, key {me['name']!r} ({me['role']})", err=True)
    anyio.run(stdio.serve, url, api_key)
