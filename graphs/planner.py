"""Plan tool calls with the LLM, constrained so that an invalid plan cannot be written.

The JSON schema is built per request: each step is one of the registered tools (a
`const`), its `file` an enum of the attached files of a kind that tool accepts, and its
`args` the tool's own argument schema. llama.cpp turns the schema into a grammar, so the
model can only emit tools and files that exist. Code then drops duplicates and adds a
step for any file the plan left unread (`origin="coverage"`), noting both.

A question for a labelled field (serial number, model, voltage…, `graphs.answer_checks`)
is planned by code when `field_plans` is on: those are read from text and speech, so every
image and document gets the text reader and every recording the speech tool; the LLM's
plan would only add time, or pick the detector. So is a job whose every file has exactly
one tool that reads it (a voice memo alone, with one speech tool): there is nothing to
choose, and coverage would add that step whatever the LLM wrote. And so is a job whose
pictures the question's words send to one tool (`graphs.cues`: the text on a nameplate,
or the people in a frame), when that tool is the only one of its kind for the file and no
other kind of tool (a plugin's report) could read it.

A later round (the evidence did not answer the question) is planned the same way but
offered only the (tool, file) pairs not yet tried, and told what the earlier steps found.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from graphs.answer_checks import asked_fields
from graphs.cues import image_cue
from graphs.llm import ChatModel
from graphs.prompts import PLAN_EXAMPLES, PLAN_SYSTEM, PLAN_USER, REPLAN_USER
from graphs.state import Attachment, PlanStep
from tools.context import ToolContext
from tools.registry import COVERAGE, FileKind, Produces, Registry, ToolSpec

MAX_STEPS = 8
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


def plan_examples(specs: Sequence[ToolSpec]) -> str:
    """Worked examples, each step naming the registered tool that produces what it needs
    (an example is left out when no registered tool produces it)."""
    def first(produces: str, kind: str) -> str | None:
        found = [s.name for s in specs if s.produces == produces and FileKind(kind) in s.accepts]
        return found[0] if found else None

    shown = []
    for question, files, steps in PLAN_EXAMPLES:
        kinds = dict(files)
        named = [(first(produces, kinds[f]), f) for produces, f in steps]
        if all(t is not None for t, _ in named):
            listed = ", ".join(f"{fid} ({kind})" for fid, kind in files)
            plan = json.dumps({"steps": [{"tool": t, "file": f} for t, f in named]})
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


def untried_pairs(specs: Sequence[ToolSpec], files: Sequence[Attachment],
                  tried: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """(tool, file id) pairs a tool could read and no round has run yet."""
    return [(spec.name, f["id"]) for spec in specs for f in files
            if FileKind(f["kind"]) in spec.accepts and (spec.name, f["id"]) not in tried]


def plan_schema(specs: Sequence[ToolSpec], files: Sequence[Attachment],
                tried: set[tuple[str, str]] | None = None) -> dict[str, Any] | None:
    """JSON schema of a valid plan for these files, or None when no tool reads any file.

    `tried` (tool, file id) pairs are left out: a later round can only look anew.
    """
    tried = tried or set()
    options = []
    for spec in specs:
        ids = [f["id"] for f in files if FileKind(f["kind"]) in spec.accepts and (spec.name, f["id"]) not in tried]
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


def describe_files(files: Sequence[Attachment], glances: dict[str, str] | None = None) -> str:
    """Attached files as the planner reads them (id, kind, name, and a glance if taken)."""
    glances = glances or {}
    return "\n".join(
        f"- {f['id']}: {f['kind']} file named {json.dumps(f['name'], ensure_ascii=False)}"
        + (f"; {glances[f['id']]}" if f["id"] in glances else "") for f in files)


def plan_messages(question: str, files: Sequence[Attachment], specs: Sequence[ToolSpec],
                  ctx: ToolContext | None, glances: dict[str, str] | None = None) -> list[dict[str, str]]:
    """System prompt (stable: the cached prefix) and the request."""
    return [
        {"role": "system", "content": PLAN_SYSTEM.format(
            tool_cards=tool_cards(specs, ctx), examples=plan_examples(specs))},
        {"role": "user", "content": PLAN_USER.format(question=question, files=describe_files(files, glances))},
    ]


def make_plan(
    llm: ChatModel,
    question: str,
    files: Sequence[Attachment],
    registry: Registry,
    ctx: ToolContext | None,
    glances: dict[str, str] | None = None,
    *,
    field_plans: bool = False,
) -> tuple[list[PlanStep], list[str]]:
    """Ask the LLM for a plan (or let code write it: `code_plan`), then normalise it.
    Returns (steps, notes on what code changed)."""
    specs = list(registry)
    schema = plan_schema(specs, files)
    notes: list[str] = []
    raw_steps: list[dict[str, Any]] = []
    by_code = code_plan(question, files, registry) if field_plans else None
    if schema is None:
        notes.append("no registered tool reads any attached file")
    elif by_code:
        raw_steps, note = by_code
        notes.append(note)
    else:
        reply = llm.complete(plan_messages(question, files, specs, ctx, glances), schema=schema, max_tokens=400,
                             purpose="plan")
        raw_steps = json.loads(reply).get("steps", [])
    steps = normalise(raw_steps, files, registry, notes)
    return steps, notes


def field_plan(question: str, files: Sequence[Attachment], registry: Registry) -> list[dict[str, Any]] | None:
    """Text on every image and document, speech on every recording, when the question asks
    for a labelled field; None otherwise (or when no registered tool reads any file so)."""
    if not asked_fields(question):
        return None
    steps = []
    for f in files:
        kind = FileKind(f["kind"])
        produces = Produces.TRANSCRIPT if kind is FileKind.AUDIO else Produces.TEXT
        steps += [{"tool": spec.name, "file": f["id"]} for spec in registry.producing(produces, kind)[:1]]
    return steps or None


def sole_reader_plan(files: Sequence[Attachment], registry: Registry) -> list[dict[str, Any]] | None:
    """Each file read by the one registered tool that reads its kind; None when any file has
    a choice of tools (or none), since then the planner has something to decide."""
    pairs = untried_pairs(list(registry), files, set())
    reader = {file: tool for tool, file in pairs}
    if not files or len(pairs) != len(files) or len(reader) != len(files):  # a file with a choice, or none
        return None
    return [{"tool": reader[f["id"]], "file": f["id"]} for f in files]


# What each file kind is read for, by what the question points to in its pictures.
_CUE_READS: dict[str, dict[FileKind, Produces]] = {
    "text": {FileKind.IMAGE: Produces.TEXT, FileKind.DOCUMENT: Produces.TEXT, FileKind.AUDIO: Produces.TRANSCRIPT},
    "people": {FileKind.IMAGE: Produces.DETECTIONS, FileKind.DOCUMENT: Produces.TEXT,
               FileKind.AUDIO: Produces.TRANSCRIPT},
}


def cue_plan(question: str, files: Sequence[Attachment], registry: Registry) -> list[dict[str, Any]] | None:
    """Each file read by the one tool of the kind the question's words point to (`graphs.cues`);
    None when they point nowhere, or any file has two such tools or a tool of another kind
    (a plugin's report) that the planner should weigh."""
    cue = image_cue(question)
    if cue is None or not any(FileKind(f["kind"]) is FileKind.IMAGE for f in files):
        return None
    steps = []
    for f in files:
        kind = FileKind(f["kind"])
        readers = [s for s in registry if kind in s.accepts]
        if any(s.produces not in COVERAGE.get(kind, ()) for s in readers):
            return None
        chosen = [s for s in readers if s.produces is _CUE_READS[cue][kind]]
        if len(chosen) != 1:
            return None
        steps.append({"tool": chosen[0].name, "file": f["id"]})
    return steps


def code_plan(question: str, files: Sequence[Attachment], registry: Registry
              ) -> tuple[list[dict[str, Any]], str] | None:
    """The plan code writes for this job, with the note saying why; None when the LLM plans."""
    if by_field := field_plan(question, files, registry):
        return by_field, (f"planned in code: the question asks for the {' and '.join(asked_fields(question))}, "
                          "read from the files' text and speech")
    if by_sole := sole_reader_plan(files, registry):
        return by_sole, "planned in code: each file has one tool that reads it"
    if by_cue := cue_plan(question, files, registry):
        return by_cue, f"planned in code: the question asks about the {image_cue(question)} in the pictures"
    return None


def replan(
    llm: ChatModel,
    question: str,
    files: Sequence[Attachment],
    registry: Registry,
    ctx: ToolContext | None,
    *,
    done: Sequence[PlanStep],
    findings: str,
    round_: int,
) -> tuple[list[PlanStep], list[str]]:
    """Plan another look: only (tool, file) pairs not yet tried, told what was found so far.

    With a single untried pair the LLM is not asked (there is nothing to choose). Returns
    the new steps (numbered after `done`) and notes; no steps when nothing is left to try.
    """
    specs = list(registry)
    tried = {(s["tool"], s["file"]) for s in done}
    schema = plan_schema(specs, files, tried)
    notes: list[str] = []
    if schema is None:
        return [], ["every tool that reads these files has been tried"]
    options = untried_pairs(specs, files, tried)
    if len(options) == 1:
        raw_steps: list[dict[str, Any]] = [{"tool": options[0][0], "file": options[0][1]}]
        notes.append(f"round {round_}: one untried tool left; ran {options[0][0]} on {options[0][1]}")
    else:
        messages = plan_messages(question, files, specs, ctx)
        messages[-1]["content"] += REPLAN_USER.format(
            findings=findings, untried="\n".join(f"- {t} on {f}" for t, f in options))
        reply = llm.complete(messages, schema=schema, max_tokens=400, purpose="plan")
        raw_steps = json.loads(reply).get("steps", [])
    steps = normalise(raw_steps, files, registry, notes, first=len(done) + 1, round_=round_,
                      tried=tried, cover=False)
    return steps, notes


def normalise(raw_steps: Sequence[dict[str, Any]], files: Sequence[Attachment], registry: Registry,
              notes: list[str], *, first: int = 1, round_: int = 1, tried: set[tuple[str, str]] | None = None,
              cover: bool = True) -> list[PlanStep]:
    """Validate each step again (a scripted LLM has no grammar), drop duplicates, cover files.

    Steps are numbered from `first`; `tried` pairs (an earlier round's) count as duplicates.
    """
    by_id = {f["id"]: f for f in files}
    steps: list[PlanStep] = []
    seen: set[str] = set()
    tried = tried or set()
    for raw in raw_steps:
        name, file_id = raw.get("tool"), raw.get("file")
        if name not in registry or file_id not in by_id:
            notes.append(f"dropped a step naming an unknown tool or file: {name} on {file_id}")
            continue
        assert isinstance(name, str)  # the registry's names are strings
        spec = registry.get(name)
        if FileKind(by_id[file_id]["kind"]) not in spec.accepts:
            notes.append(f"dropped {name} on {file_id}: that tool does not read {by_id[file_id]['kind']} files")
            continue
        args = {k: v for k, v in (raw.get("args") or {}).items() if k in _plannable_args(spec)}
        key = json.dumps([name, file_id, args], sort_keys=True)
        if key in seen or (name, file_id) in tried:
            notes.append(f"dropped a duplicate step: {name} on {file_id}")
            continue
        seen.add(key)
        steps.append(_step(first + len(steps), spec, file_id, args, "planner", round_))
    if not cover:
        return steps
    covered = {s["file"] for s in steps}
    for f in files:
        if f["id"] in covered:
            continue
        for produces in COVERAGE.get(FileKind(f["kind"]), ()):
            for spec in registry.producing(produces, FileKind(f["kind"]))[:1]:
                steps.append(_step(first + len(steps), spec, f["id"], {}, "coverage", round_))
                notes.append(f"the plan left {f['id']} ({f['name']}) unread; added {spec.name}")
    return steps


def _step(n: int, spec: ToolSpec, file_id: str, args: dict[str, Any],
          origin: Literal["planner", "coverage"], round_: int) -> PlanStep:
    return PlanStep(id=f"s{n}", tool=spec.name, file=file_id, args=args, after=[], origin=origin,
                    produces=spec.produces.value, round=round_)
