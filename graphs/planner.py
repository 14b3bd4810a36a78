"""Plan tool calls with the LLM, constrained so that an invalid plan cannot be written.

The JSON schema is built per request: each step is one of the registered tools (a
`const`), its `file` an enum of the attached files of a kind that tool accepts, and its
`args` the tool's own argument schema. llama.cpp turns the schema into a grammar, so the
model can only emit tools and files that exist. Code then drops duplicates and adds a
step for any file the plan left unread (`origin="coverage"`), noting both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphs.llm import ChatModel
from graphs.prompts import PLAN_EXAMPLES, PLAN_SYSTEM, PLAN_USER
from graphs.state import Attachment, PlanStep
from tools.context import ToolContext
from tools.registry import FileKind, Registry, ToolSpec

MAX_STEPS = 8
# When a plan leaves a file unread, these tools read it (if registered).
COVERAGE_TOOLS: dict[str, tuple[str, ...]] = {
    "image": ("ocr", "detect"),
    "document": ("ocr",),
    "audio": ("asr",),
}
_SIMPLE_TYPES = {"string", "integer", "number", "boolean"}


def tool_cards(specs: Sequence[ToolSpec], ctx: ToolContext | None) -> str:
    """The tool catalogue as the planner reads it: name, kinds, what it finds, arguments."""
    lines = []
    for spec in specs:
        args = _plannable_args(spec)
        arg_text = "; ".join(f"{k}: {' '.join(v.get('description', '').split())}" for k, v in args.items())
        lines.append(
            f"- {spec.name} (reads {', '.join(sorted(spec.accepts))} files): "
            f"{' '.join(spec.describe_for(ctx).split())}"
            + (f" Optional arguments: {arg_text}" if arg_text else "")
        )
    return "\n".join(lines)


def plan_examples(names: set[str]) -> str:
    """Worked examples using only registered tools (none when the built-ins are absent)."""
    shown = []
    for question, files, steps in PLAN_EXAMPLES:
        if all(tool in names for tool, _ in steps):
            listed = ", ".join(f"{fid} ({kind})" for fid, kind in files)
            plan = json.dumps({"steps": [{"tool": t, "file": f} for t, f in steps]})
            shown.append(f"Question: {question} Files: {listed}\nPlan: {plan}")
    return ("\nExamples:\n" + "\n".join(shown)) if shown else ""


def _plannable_args(spec: ToolSpec) -> dict[str, Any]:
    """Arguments simple enough to constrain by grammar; the rest keep their defaults."""
    props = spec.args_schema().get("properties", {})
    out = {}
    for name, prop in props.items():
        if "enum" in prop or prop.get("type") in _SIMPLE_TYPES:
            out[name] = {k: prop[k] for k in ("type", "enum", "description") if k in prop}
    return out


def plan_schema(specs: Sequence[ToolSpec], files: Sequence[Attachment]) -> dict[str, Any] | None:
    """JSON schema of a valid plan for these files, or None when no tool reads any file."""
    options = []
    for spec in specs:
        ids = [f["id"] for f in files if FileKind(f["kind"]) in spec.accepts]
        if not ids:
            continue
        props: dict[str, Any] = {"tool": {"const": spec.name}, "file": {"enum": ids}}
        args = _plannable_args(spec)
        if args:
            props["args"] = {"type": "object", "properties": args}
        options.append({"type": "object", "properties": props, "required": ["tool", "file"]})
    if not options:
        return None
    return {
        "type": "object",
        "properties": {"steps": {"type": "array", "items": {"anyOf": options}, "maxItems": MAX_STEPS}},
        "required": ["steps"],
    }


def describe_files(files: Sequence[Attachment]) -> str:
    """Attached files as the planner reads them (id, kind, name)."""
    return "\n".join(f"- {f['id']}: {f['kind']} file named {json.dumps(f['name'], ensure_ascii=False)}" for f in files)


def plan_messages(question: str, files: Sequence[Attachment], specs: Sequence[ToolSpec],
                  ctx: ToolContext | None) -> list[dict[str, str]]:
    """System prompt (stable: the cached prefix) and the request."""
    return [
        {"role": "system", "content": PLAN_SYSTEM.format(
            tool_cards=tool_cards(specs, ctx), examples=plan_examples({s.name for s in specs}))},
        {"role": "user", "content": PLAN_USER.format(question=question, files=describe_files(files))},
    ]


def make_plan(
    llm: ChatModel,
    question: str,
    files: Sequence[Attachment],
    registry: Registry,
    ctx: ToolContext | None,
) -> tuple[list[PlanStep], list[str]]:
    """Ask the LLM for a plan, then normalise it. Returns (steps, notes on what code changed)."""
    specs = list(registry)
    schema = plan_schema(specs, files)
    notes: list[str] = []
    raw_steps: list[dict[str, Any]] = []
    if schema is None:
        notes.append("no registered tool reads any attached file")
    else:
        reply = llm.complete(plan_messages(question, files, specs, ctx), schema=schema, max_tokens=400, purpose="plan")
        raw_steps = json.loads(reply).get("steps", [])
    steps = normalise(raw_steps, files, registry, notes)
    return steps, notes


def normalise(raw_steps: Sequence[dict[str, Any]], files: Sequence[Attachment], registry: Registry,
              notes: list[str]) -> list[PlanStep]:
    """Validate each step again (a scripted LLM has no grammar), drop duplicates, cover files."""
    by_id = {f["id"]: f for f in files}
    steps: list[PlanStep] = []
    seen: set[str] = set()
    for raw in raw_steps:
        name, file_id = raw.get("tool"), raw.get("file")
        if name not in registry or file_id not in by_id:
            notes.append(f"dropped a step naming an unknown tool or file: {name} on {file_id}")
            continue
        spec = registry.get(name)
        if FileKind(by_id[file_id]["kind"]) not in spec.accepts:
            notes.append(f"dropped {name} on {file_id}: that tool does not read {by_id[file_id]['kind']} files")
            continue
        args = {k: v for k, v in (raw.get("args") or {}).items() if k in _plannable_args(spec)}
        key = json.dumps([name, file_id, args], sort_keys=True)
        if key in seen:
            notes.append(f"dropped a duplicate step: {name} on {file_id}")
            continue
        seen.add(key)
        steps.append(_step(len(steps) + 1, name, file_id, args, "planner"))
    covered = {s["file"] for s in steps}
    for f in files:
        if f["id"] in covered:
            continue
        for name in COVERAGE_TOOLS.get(f["kind"], ()):
            if name in registry and FileKind(f["kind"]) in registry.get(name).accepts:
                steps.append(_step(len(steps) + 1, name, f["id"], {}, "coverage"))
                notes.append(f"the plan left {f['id']} ({f['name']}) unread; added {name}")
    return steps


def _step(n: int, tool: str, file_id: str, args: dict[str, Any], origin: str) -> PlanStep:
    return PlanStep(id=f"s{n}", tool=tool, file=file_id, args=args, after=[], origin=origin)  # type: ignore[typeddict-item]
