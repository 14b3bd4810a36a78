"""The plain floor: what anyone would write with the same models, kept warm, and no jimoku.

One llama.cpp context, a short plan prompt listing the tools, each planned tool run in
turn, then one draft prompt holding every tool's summary. No checks, no grounding, no
cache, no review: the time a job cannot beat without doing less or doing it faster.
`bench.gold` runs it beside the service on the same cases.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.context import ToolContext
from tools.files import sniff_kind
from tools.registry import Registry

PLAN = ("You choose tools to answer a question about attached files. Tools:\n{tools}\n"
        'Answer with JSON: {{"steps": [{{"tool": "...", "file": "f1"}}]}}.')
DRAFT = ("Answer the question from these tool results only. If they do not contain the answer, say "
         '"The evidence does not show it". Answer with JSON: {{"answer": "..."}}.')


def _chat(llama: Any, system: str, user: str, schema: dict[str, Any], max_tokens: int) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    out = llama.create_chat_completion(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        temperature=0.0, max_tokens=max_tokens, response_format={"type": "json_object", "schema": schema})
    return json.loads(out["choices"][0]["message"]["content"]), time.perf_counter() - started


def job(llama: Any, question: str, files: Sequence[Path], registry: Registry, ctx: ToolContext) -> dict[str, Any]:
    """Plan, run, draft; the answer and the seconds of each part."""
    started = time.perf_counter()
    ids = {f"f{i}": path for i, path in enumerate(files, start=1)}
    kinds = {fid: sniff_kind(path) for fid, path in ids.items()}
    tools = "\n".join(f"- {s.name}: {s.description.splitlines()[0]}" for s in registry)
    listing = "\n".join(f"- {fid}: {kinds[fid].value} file {path.name}" for fid, path in ids.items())
    schema = {"type": "object", "required": ["steps"], "properties": {"steps": {"type": "array", "maxItems": 4, "items": {
        "type": "object", "required": ["tool", "file"],
        "properties": {"tool": {"enum": [s.name for s in registry]}, "file": {"enum": list(ids)}}}}}}
    plan, plan_s = _chat(llama, PLAN.format(tools=tools), f"Question: {question}\nFiles:\n{listing}", schema, 200)
    results, tools_started = [], time.perf_counter()
    for step in plan["steps"]:
        spec, fid = registry.get(step["tool"]), step["file"]
        if kinds[fid] not in spec.accepts:
            continue
        try:
            results.append(f"{spec.name} on {fid}: {spec.invoke(ids[fid], {}, ctx).summary}")
        except Exception as exc:  # a plain script reports the error and goes on
            results.append(f"{spec.name} on {fid}: error {exc}")
    tools_s = time.perf_counter() - tools_started
    evidence = "\n".join(results) or "no tool ran"
    reply, draft_s = _chat(llama, DRAFT, f"Question: {question}\nTool results:\n{evidence}",
                           {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}, 300)
    return {"answer": reply["answer"], "tools": [s["tool"] for s in plan["steps"]], "plan_s": plan_s,
            "tools_s": tools_s, "draft_s": draft_s, "wall_s": time.perf_counter() - started}
