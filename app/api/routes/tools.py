"""Direct tool calls: for apps that only need OCR or detection (no LLM, no review)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from app.api.deps import RegistryDep, SettingsDep, Submitter, ToolContextDep
from app.limits import BoundedForm
from app.settings import Settings
from app.uploads import as_uploaded, check_wav_header, safe_name, save_upload
from tools.context import ToolContext
from tools.errors import ToolInputError, UnknownToolError
from tools.files import sniff_kind
from tools.registry import FileKind, ToolSpec
from tools.runner import ToolRun, run_tool

router = APIRouter(prefix="/v1/tools", tags=["tools"], route_class=BoundedForm)

_in_flight = 0
"""Tool calls of this process running or waiting for a slot; read and changed only on the event
loop (no lock needed). Bounded by `max_tool_calls` (issue 18: 45 concurrent ASR calls queued for
141 s and took the thread pool that other routes need)."""


def _take_tool_slot(settings: Settings) -> None:
    global _in_flight
    if _in_flight >= settings.max_tool_calls:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"{_in_flight} tool calls are running or waiting, the limit (JIMOKU_MAX_TOOL_CALLS); try again in "
            f"{settings.tool_retry_after_seconds} s, or submit a job (POST /v1/jobs), which waits in the job queue",
            headers={"Retry-After": str(settings.tool_retry_after_seconds)})
    _in_flight += 1


def _free_tool_slot() -> None:
    global _in_flight
    _in_flight -= 1


@router.get("")
def list_tools(registry: RegistryDep, ctx: ToolContextDep, _: Submitter) -> dict[str, Any]:
    """List the registered tools with their accepted file kinds and argument schemas."""
    return {"data": [s.card(ctx) for s in registry], "load_errors": registry.load_errors}


@router.post("/{name}", responses={404: {"description": "No such tool"}, 415: {"description": "Wrong kind of file"},
                                   422: {"description": "The tool cannot read this file; the reason says why"}})
async def call_tool(
    name: str,
    registry: RegistryDep,
    ctx: ToolContextDep,
    settings: SettingsDep,
    _: Submitter,
    file: Annotated[UploadFile, File(description="The image, PDF or audio file.")],
    args: Annotated[str, Form(description='Tool arguments as a JSON object, e.g. {"lang": "jpn"}.')] = "{}",
) -> ToolRun:
    """Run one tool on one uploaded file and return its structured result."""
    try:
        spec = registry.get(name)
    except UnknownToolError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    try:
        parsed = json.loads(args)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "args must be a JSON object")
    _take_tool_slot(settings)
    try:
        return await _call(name, spec, parsed, file, ctx, settings)
    finally:
        _free_tool_slot()


async def _call(name: str, spec: ToolSpec, parsed: dict[str, Any], file: UploadFile, ctx: ToolContext,
                settings: Settings) -> ToolRun:
    path = await save_upload(file, settings.data_dir / "tmp", settings.max_upload_bytes)
    try:
        try:
            kind = sniff_kind(path)
        except ToolInputError as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                                as_uploaded(str(exc), path, safe_name(file.filename))) from None
        if kind not in spec.accepts:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                f"tool {name!r} reads {', '.join(sorted(spec.accepts))} files; this file is {kind.value}",
            )
        if kind is FileKind.AUDIO:  # refused from its header, not after decoding minutes of it
            try:
                check_wav_header(path, safe_name(file.filename), ctx.max_audio_seconds)
            except ToolInputError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        run = await run_in_threadpool(run_tool, spec, path, parsed, ctx)
    finally:
        path.unlink(missing_ok=True)
    if not run.ok and run.error_kind == "input":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, as_uploaded(run.error or "", path, safe_name(file.filename)))
    return run
