"""jimoku's MCP server: which tools it lists and what each call does, for either transport.

Listed: every tool the service's registry holds (argument `file` plus the tool's own arguments,
answered with the tool's structured result), `ask` (a question with files → job id), `job` (one
job: status, draft, flags, final answer) and, for reviewer and admin keys, `reviews` (the queue).
Nothing here decides a review: approving, editing and rejecting stay on the reviewer page and
`POST /v1/reviews/{id}`, so an MCP client can submit and read, and a person decides.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext

from app.mcp.files import ArgumentError, FileArgument
from app.mcp.rest import ApiError, JimokuApi

ApiFor = Callable[[ServerRequestContext[Any]], AbstractAsyncContextManager[JimokuApi]]
"""The REST API for one request, with that request's key (stdio: the process's; HTTP: the caller's)."""

OWN_TOOLS = ("ask", "job", "reviews")
"""jimoku's own MCP tools; a registered tool of the same name is not listed (it would be ambiguous)."""
_REVIEWER_ROLES = ("reviewer", "admin")


def _tool_from_card(card: dict[str, Any], file_arg: FileArgument) -> types.Tool:
    """An MCP tool for a registered jimoku tool: its card's arguments plus `file`."""
    args = card.get("arguments") or {}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"file": {**file_arg.schema, "description": f"{file_arg.schema['description']} "
                                                                  f"It must be {', '.join(card['accepts'])}: "
                                                                  f"{card.get('file', '')}"},
                       **args.get("properties", {})},
        "required": ["file", *args.get("required", [])],
        "additionalProperties": False,
    }
    if "$defs" in args:
        schema["$defs"] = args["$defs"]
    return types.Tool(name=card["name"], description=card["description"], input_schema=schema,
                      annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False))


def _own_tools(file_arg: FileArgument, role: str) -> list[types.Tool]:
    tools = [
        types.Tool(
            name="ask",
            description=("Ask a question about one or more files (photos, scanned drawings or PDFs, voice memos). "
                         "jimoku plans which tools to run, drafts a grounded answer and puts it in front of a "
                         "person for review. Returns the job id at once (status queued); follow it with `job`."),
            input_schema={
                "type": "object",
                "properties": {
                    "question": {"type": "string", "description": "What you want to know about the files."},
                    "files": {"type": "array", "items": file_arg.schema, "minItems": 1,
                              "description": "The files the question is about."},
                    "auto_approve": {"type": "boolean", "default": False,
                                     "description": "Ask to skip review when nothing is flagged; only honoured "
                                                    "where the admin's review policy allows it."},
                },
                "required": ["question", "files"],
                "additionalProperties": False,
            },
        ),
        types.Tool(
            name="job",
            description=("One job: its status (queued, running, awaiting_review, approved, rejected, failed), plan, "
                         "steps, draft answer, flags, confidence and, once a reviewer decided, the final answer. "
                         "A submitter key sees only its own jobs."),
            input_schema={"type": "object", "properties": {"id": {"type": "string", "description": "The job id."}},
                          "required": ["id"], "additionalProperties": False},
            annotations=types.ToolAnnotations(read_only_hint=True),
        ),
    ]
    if role in _REVIEWER_ROLES:
        tools.append(types.Tool(
            name="reviews",
            description="Jobs awaiting review, oldest first, with their drafts, flags and confidence (reviewer keys).",
            input_schema={"type": "object", "additionalProperties": False,
                          "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}}},
            annotations=types.ToolAnnotations(read_only_hint=True),
        ))
    return tools


def _result(data: dict[str, Any], text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=data,
                                is_error=error)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def _job_text(doc: dict[str, Any]) -> str:
    """The few lines an assistant needs first; the whole document is the structured content."""
    lines = [f"job {doc['id']}: {doc['status']}"]
    if doc.get("error"):
        lines.append(f"error: {doc['error']}")
    if doc.get("final_answer") is not None:
        lines.append(f"final answer: {doc['final_answer']}")
    elif doc.get("draft_answer"):
        lines.append(f"draft (not yet reviewed): {doc['draft_answer']}")
    if doc.get("flags"):
        lines.append("flags: " + ", ".join(str(f.get("kind", f)) if isinstance(f, dict) else str(f)
                                           for f in doc["flags"]))
    if doc.get("confidence") is not None:
        lines.append(f"confidence: {doc['confidence']}")
    return "\n".join(lines)


async def _call(api: JimokuApi, file_arg: FileArgument, name: str, args: dict[str, Any]) -> types.CallToolResult:
    if name == "ask":
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise ArgumentError("files must be a list of one or more files")
        uploads = [file_arg.read(f, f"files[{i}]") for i, f in enumerate(files)]
        created = await api.submit(str(args.get("question") or ""), uploads, bool(args.get("auto_approve", False)))
        return _result(created, f"job {created['id']} is {created['status']}; follow it with the `job` tool")
    if name == "job":
        doc = await api.job(str(args.get("id") or ""))
        return _result(doc, _job_text(doc))
    if name == "reviews":
        limit = args.get("limit", 100)
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise ArgumentError("limit must be a whole number from 1 to 500")
        queue = await api.reviews(limit)  # the range is REST's to check (422 with the reason)
        lines = [f"{queue['count']} job(s) awaiting review"] + [
            f"- {item['id']}: {item.get('question', '')!r} → {item.get('draft_answer')!r}" for item in queue["data"]]
        return _result(queue, "\n".join(lines))
    tool_args = {k: v for k, v in args.items() if k != "file"}
    run = await api.run_tool(name, file_arg.read(args.get("file"), "file"), tool_args)
    if not run.get("ok"):  # a timeout or an engine failure: the run says which
        return _result(run, f"error ({run.get('error_kind')}): {run.get('error')}", error=True)
    return _result(run, run.get("summary") or json.dumps(run.get("result"), ensure_ascii=False))


def build_server(file_arg: FileArgument, api_for: ApiFor, *, instructions: str = "") -> Server[Any]:
    """The MCP server; `file_arg` is how its tools take files, `api_for` how a request reaches REST."""

    async def list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
                         ) -> types.ListToolsResult:
        async with api_for(ctx) as api:
            me = await api.me()
            cards = await api.tools()
        listed = [_tool_from_card(card, file_arg) for card in cards if card["name"] not in OWN_TOOLS]
        return types.ListToolsResult(tools=listed + _own_tools(file_arg, me["role"]))

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            async with api_for(ctx) as api:
                return await _call(api, file_arg, params.name, dict(params.arguments or {}))
        except (ApiError, ArgumentError) as exc:  # the caller's to fix: say what, as REST says it
            return _error(str(exc))

    return Server("jimoku", version="0.1.0", instructions=instructions or None,
                  on_list_tools=list_tools, on_call_tool=call_tool)
