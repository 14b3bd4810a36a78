"""The `@tool` decorator and the registry every tool, built-in or plugin, goes through.

A tool is a plain, type-hinted function with a Google-style docstring::

    @tool(accepts=["image"], resource="cpu", timeout=60)
    def count_bolts(file: Path, ctx: ToolContext, min_size: int = 4) -> ToolResult:
        '''Count the bolts visible on a flange.

        Args:
            file: Photo of the flange.
            min_size: Smallest bolt head to count, in pixels.
        '''

The decorator is strict at import time, so a mistake shows when the plugin loads, not
when a job runs: no docstring, an undocumented argument, a missing return type or a
duplicate name raise `ToolDefinitionError` with a message that says how to fix it.
The argument schema is derived from the signature and the docstring with pydantic, never
written by hand beside the function.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import docstring_parser
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tools.context import ToolContext
from tools.errors import ToolDefinitionError, ToolInputError, UnknownToolError


class FileKind(StrEnum):
    """What an attached file holds, sniffed from its content (never from its name)."""

    IMAGE = "image"
    AUDIO = "audio"
    DOCUMENT = "document"


class Produces(StrEnum):
    """What a tool's result holds, so the rest of jimoku treats every tool of a kind alike.

    The checks, the planner's coverage step and the reviewer page key off this, never off
    a tool's name: a plugin OCR engine gets the same grounding, conflict checks and
    overlays as the built-in one.
    """

    TEXT = "text"
    """Text read off an image or document: `text`, and `pages` of `lines` with boxes."""
    TRANSCRIPT = "transcript"
    """Speech heard: `text` (spoken numbers are normalised) and timed `segments`."""
    DETECTIONS = "detections"
    """Objects found: `detections` with class, box and confidence, and `counts` per class."""
    REPORT = "report"
    """Anything else: the tool speaks through its `summary`."""


# Which capability reads a file of each kind when the plan left it unread, in order.
COVERAGE: dict[FileKind, tuple[Produces, ...]] = {
    FileKind.IMAGE: (Produces.TEXT, Produces.DETECTIONS),
    FileKind.DOCUMENT: (Produces.TEXT,),
    FileKind.AUDIO: (Produces.TRANSCRIPT,),
}


class ToolResult(BaseModel):
    """Base of every tool's structured result.

    `summary` is the short text rendering the planner and the drafting LLM read;
    `confidence` (0..1) feeds the draft's confidence score; `warnings` explain an empty
    or partial result (e.g. "no speech found") so that nothing is silently empty.
    """

    model_config = ConfigDict(extra="forbid")

    summary: str = ""
    confidence: float | None = None
    warnings: list[str] = Field(default_factory=list)


class TextResult(ToolResult):
    """What a plugin returning a plain string is wrapped into."""


# Parameters the registry fills in itself; they are not part of the planner's schema.
FILE_PARAM = "file"
CONTEXT_PARAM = "ctx"


@dataclass(frozen=True)
class ToolSpec:
    """Everything known about one registered tool."""

    name: str
    description: str
    func: Callable[..., Any]
    accepts: frozenset[FileKind]
    args_model: type[BaseModel]
    file_doc: str
    resource: str
    max_concurrency: int
    timeout: float
    version: str
    origin: str
    takes_context: bool
    produces: Produces = Produces.REPORT
    """What the result holds (see `Produces`)."""
    warm_up: Callable[[ToolContext], None] | None = None
    """Loads the tool's models ahead of the first call (the service runs it at start)."""
    describe: Callable[[ToolContext], str] | None = None
    """Optional hook giving the description for the configured model (e.g. its classes)."""

    def args_schema(self) -> dict[str, Any]:
        """JSON schema of the tool's extra arguments (the file argument excluded)."""
        return self.args_model.model_json_schema()

    def describe_for(self, ctx: ToolContext | None) -> str:
        """The description for this process's configuration (falls back to the docstring)."""
        if ctx is not None and self.describe is not None:
            return self.describe(ctx)
        return self.description

    def card(self, ctx: ToolContext | None = None) -> dict[str, Any]:
        """What the planner (and `GET /v1/tools`) is told about this tool."""
        return {
            "name": self.name,
            "description": self.describe_for(ctx),
            "accepts": sorted(self.accepts),
            "produces": self.produces.value,
            "file": self.file_doc,
            "arguments": self.args_schema(),
            "version": self.version,
            "timeout_s": self.timeout,
            "resource": self.resource,
        }

    def validate_args(self, args: dict[str, Any] | None) -> dict[str, Any]:
        """Check the extra arguments against the schema; a bad one is a `ToolInputError`."""
        try:
            return self.args_model.model_validate(args or {}).model_dump()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolInputError(f"bad arguments for tool {self.name!r}: {problems}") from exc

    def invoke(self, file: Path, args: dict[str, Any] | None, ctx: ToolContext) -> ToolResult:
        """Call the function in this thread (no timeout here: see `tools.runner`)."""
        kwargs = self.validate_args(args)
        kwargs[FILE_PARAM] = Path(file)
        if self.takes_context:
            kwargs[CONTEXT_PARAM] = ctx
        result = self.func(**kwargs)
        return _as_result(self.name, result)


def _as_result(name: str, result: Any) -> ToolResult:
    if isinstance(result, ToolResult):
        return result
    if isinstance(result, str):
        return TextResult(summary=result)
    raise TypeError(
        f"tool {name!r} returned {type(result).__name__}; return a ToolResult subclass or a str"
    )


class Registry:
    """Named tools, plus the plugins that failed to load (shown, not hidden)."""

    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}
        self.load_errors: dict[str, str] = {}

    def add(self, spec: ToolSpec) -> None:
        """Register `spec`; a second tool with the same name is refused."""
        existing = self._tools.get(spec.name)
        if existing is not None and existing.origin != spec.origin:
            raise ToolDefinitionError(
                f"a tool named {spec.name!r} is already registered by {existing.origin}; "
                f"rename the one in {spec.origin} (pass name=... to @tool)"
            )
        # Same origin means the same module imported again (e.g. a reload): replace.
        self._tools[spec.name] = spec

    def remove(self, name: str) -> None:
        """Forget a tool (used by tests that register throw-away tools)."""
        self._tools.pop(name, None)

    def get(self, name: str) -> ToolSpec:
        """The tool called `name`, or `UnknownToolError` listing the known ones."""
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownToolError(name, sorted(self._tools)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> typing.Iterator[ToolSpec]:
        return iter(sorted(self._tools.values(), key=lambda s: s.name))

    def names(self) -> list[str]:
        """Registered tool names, sorted."""
        return sorted(self._tools)

    def for_kind(self, kind: FileKind) -> list[ToolSpec]:
        """Tools that accept files of `kind`."""
        return [s for s in self if kind in s.accepts]

    def producing(self, produces: Produces, kind: FileKind | None = None) -> list[ToolSpec]:
        """Tools whose results hold `produces` (and that read `kind`, if given), by name."""
        return [s for s in self if s.produces is produces and (kind is None or kind in s.accepts)]

    def produces(self, name: str) -> Produces:
        """What the tool called `name` produces; `REPORT` for a tool no longer registered."""
        spec = self._tools.get(name)
        return spec.produces if spec is not None else Produces.REPORT


REGISTRY = Registry()


def tool(
    func: Callable[..., Any] | None = None,
    *,
    accepts: Iterable[str],
    produces: str = Produces.REPORT,
    name: str | None = None,
    resource: str = "cpu",
    max_concurrency: int = 1,
    timeout: float = 120.0,
    version: str = "1",
    describe: Callable[[ToolContext], str] | None = None,
    warm_up: Callable[[ToolContext], None] | None = None,
    registry: Registry | None = None,
) -> Any:
    """Register a function as a jimoku tool.

    Args:
        func: The function (when used as `@tool` without parentheses this is impossible:
            `accepts` is required, so always write `@tool(accepts=[...])`).
        accepts: File kinds the tool reads: any of "image", "audio", "document".
        produces: What the result holds: "text" (read text: `text` and `pages` of
            `lines`), "transcript" (heard speech: `text` and `segments`), "detections"
            (`detections` and `counts`), or "report" (only a summary; the default).
        name: Tool name the planner uses; defaults to the function's name.
        resource: Resource class; tools of one class share its concurrency limit.
        max_concurrency: How many calls of this tool may run at once.
        timeout: Seconds after which a call is abandoned and reported as an error.
        version: Bump when results change, so cached results are not reused.
        describe: Optional `f(ctx) -> str` giving the description for the configured model
            (a detector's classes depend on which model file is loaded).
        warm_up: Optional `f(ctx)` that loads the tool's models, run when the service
            starts (so the first job does not wait, and /readyz reports it).
        registry: Registry to add to (tests); the process-wide one by default.
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        spec = build_spec(
            f,
            accepts=accepts,
            produces=produces,
            name=name,
            resource=resource,
            max_concurrency=max_concurrency,
            timeout=timeout,
            version=version,
            describe=describe,
            warm_up=warm_up,
        )
        (registry or REGISTRY).add(spec)
        f.__jimoku_tool__ = spec  # type: ignore[attr-defined]
        return f

    return decorate(func) if func is not None else decorate


def build_spec(
    f: Callable[..., Any],
    *,
    accepts: Iterable[str],
    name: str | None,
    resource: str,
    produces: str = Produces.REPORT,
    max_concurrency: int,
    timeout: float,
    version: str,
    describe: Callable[[ToolContext], str] | None = None,
    warm_up: Callable[[ToolContext], None] | None = None,
) -> ToolSpec:
    """Derive a `ToolSpec` from a function, refusing anything the planner could misuse."""
    where = f"{f.__module__}.{f.__qualname__}"
    tool_name = name or f.__name__
    if not tool_name.isidentifier():
        raise ToolDefinitionError(f"{where}: tool name {tool_name!r} must be a Python identifier")
    kinds = _parse_kinds(accepts, where)
    try:
        capability = Produces(produces)
    except ValueError:
        raise ToolDefinitionError(
            f"{where}: unknown produces={produces!r}; use one of {[p.value for p in Produces]}"
        ) from None
    if timeout <= 0 or max_concurrency < 1:
        raise ToolDefinitionError(f"{where}: timeout must be > 0 and max_concurrency >= 1")

    doc = inspect.getdoc(f)
    if not doc or not doc.strip():
        raise ToolDefinitionError(
            f"{where} has no docstring. Add one: a first line saying what the tool reads or "
            "finds (the planner chooses tools by it), then an 'Args:' section documenting "
            f"'{FILE_PARAM}' and every other argument."
        )
    parsed = docstring_parser.parse(doc, style=docstring_parser.DocstringStyle.GOOGLE)
    description = "\n".join(p for p in (parsed.short_description, parsed.long_description) if p)
    if not description:
        raise ToolDefinitionError(f"{where}: the docstring needs a description before 'Args:'")
    arg_docs = {p.arg_name: (p.description or "").strip() for p in parsed.params}

    hints = typing.get_type_hints(f, include_extras=True)
    if "return" not in hints:
        raise ToolDefinitionError(
            f"{where} has no return type. Annotate it, e.g. '-> ToolResult' (or a subclass, "
            "or '-> str' for a plain text result)."
        )

    sig = inspect.signature(f)
    params = sig.parameters
    if FILE_PARAM not in params:
        raise ToolDefinitionError(
            f"{where} must take the attached file as a parameter named '{FILE_PARAM}: Path'"
        )
    fields: dict[str, Any] = {}
    for pname, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolDefinitionError(f"{where}: *args/**kwargs cannot be planned; name each argument")
        if pname == CONTEXT_PARAM:
            continue
        if pname not in hints:
            raise ToolDefinitionError(f"{where}: argument '{pname}' has no type hint; add one")
        if not arg_docs.get(pname):
            raise ToolDefinitionError(
                f"{where}: argument '{pname}' is not documented. Add a line "
                f"'{pname}: <what it means>' under 'Args:' in the docstring."
            )
        if pname == FILE_PARAM:
            continue
        default = ... if param.default is param.empty else param.default
        fields[pname] = (hints[pname], Field(default, description=arg_docs[pname]))
    undocumented_extra = set(arg_docs) - set(params)
    if undocumented_extra:
        raise ToolDefinitionError(
            f"{where}: the docstring documents {sorted(undocumented_extra)} which the function "
            "does not take; fix the 'Args:' section"
        )

    args_model = create_model(
        f"{tool_name}_args",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return ToolSpec(
        name=tool_name,
        description=description,
        func=f,
        accepts=kinds,
        args_model=args_model,
        file_doc=arg_docs[FILE_PARAM],
        resource=resource,
        max_concurrency=max_concurrency,
        timeout=float(timeout),
        version=str(version),
        origin=where,
        takes_context=CONTEXT_PARAM in params,
        produces=capability,
        describe=describe,
        warm_up=warm_up,
    )


def _parse_kinds(accepts: Iterable[str], where: str) -> frozenset[FileKind]:
    if isinstance(accepts, str):
        accepts = [accepts]
    kinds = set()
    for k in accepts:
        try:
            kinds.add(FileKind(k))
        except ValueError:
            raise ToolDefinitionError(
                f"{where}: unknown file kind {k!r}; use any of {[x.value for x in FileKind]}"
            ) from None
    if not kinds:
        raise ToolDefinitionError(f"{where}: accepts=[...] must name at least one file kind")
    return frozenset(kinds)
