"""The plain script jimoku is compared with: llama_cpp calls and a tool call, in sequence.

No graph, no checkpoints, no job store, no runner thread, no cache: the planner prompt
and schema come from `graphs.planner` and the draft prompt from `graphs.prompts`, built
exactly as `graphs.nodes.draft` builds them, so both sides send the model the same
tokens and the difference in wall time is jimoku's orchestration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphs.drafting import draft_facts
from graphs.drafting import draft_request as build_draft_request
from graphs.planner import plan_messages, plan_schema
from tools.context import ToolContext
from tools.registry import Registry

PLAN_MAX_TOKENS, DRAFT_MAX_TOKENS = 400, 300  # as graphs.planner.make_plan and graphs.nodes.draft


def chat(llama: Any, messages: Sequence[dict[str, str]], schema: dict[str, Any] | None, max_tokens: int) -> dict[str, Any]:
    """`create_chat_completion` at temperature 0, JSON-constrained when a schema is given."""
    kwargs: dict[str, Any] = {"temperature": 0.0, "max_tokens": max_tokens}
    if schema is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": schema}
    return llama.create_chat_completion(messages=list(messages), **kwargs)


def draft_request(question: str, steps: Sequence[dict[str, Any]], files: Sequence[dict[str, Any]]
                  ) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The draft messages and schema, exactly as graphs.nodes.draft builds them."""
    facts = draft_facts(question, steps, files)  # type: ignore[arg-type]
    return build_draft_request(question, steps, facts)  # type: ignore[arg-type]


def job(plan_llama: Any, draft_llama: Any, question: str, image: Path, registry: Registry,
        ctx: ToolContext) -> dict[str, Any]:
    """Plan, run each planned tool in this thread, draft; seconds of each part and in all,
    and (prompt, completion) tokens of each LLM call."""
    started = time.perf_counter()
    files = [{"id": "f1", "name": image.name, "kind": "image", "sha256": "", "path": str(image)}]
    specs = list(registry)
    reply = chat(plan_llama, plan_messages(question, files, specs, ctx),  # type: ignore[arg-type]
                 plan_schema(specs, files), PLAN_MAX_TOKENS)  # type: ignore[arg-type]
    usage = [reply["usage"]]
    planned = json.loads(reply["choices"][0]["message"]["content"])["steps"] or [{"tool": "ocr", "file": "f1"}]
    t_plan = time.perf_counter()
    steps = []
    for n, step in enumerate(planned, start=1):
        result = registry.get(step["tool"]).invoke(image, step.get("args") or {}, ctx)
        steps.append({"step": f"s{n}", "tool": step["tool"], "file": "f1", "ok": True, "summary": result.summary,
                      "confidence": result.confidence, "result": result.model_dump(mode="json"), "error": None})
    t_tools = time.perf_counter()
    messages, schema = draft_request(question, steps, files)
    usage.append(chat(draft_llama, messages, schema, DRAFT_MAX_TOKENS)["usage"])
    done = time.perf_counter()
    return {"plan_s": t_plan - started, "tools_s": t_tools - t_plan, "draft_s": done - t_tools,
            "wall_s": done - started, "steps": len(steps),
            "tokens": [(u["prompt_tokens"], u["completion_tokens"]) for u in usage]}
