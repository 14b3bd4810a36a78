"""Planner: tokens per second through jimoku's `LlamaChatModel` vs `llama_cpp.Llama` directly.

The model is loaded the way `app.engine.Engine` loads it: `LlamaChatModel`, which keeps one
llama.cpp context per purpose ("plan", "draft"). "Direct" calls `create_chat_completion`
on the very same context object, so both sides run on the same weights, threads and KV
cache and differ only in what jimoku wraps around the call. Prompts are plan prompts: a
cold one (after `reset()`, empty KV), then "second plans" with another question and file
name (one per side) but the same tool catalogue, which reuse the catalogue prefix
(llama.cpp keeps the previous prompt's KV). Prompt-eval and decode rates come from
llama.cpp's own counters (`llama_perf_context`); the caller's view is wall time. The full
run also measures a plan right after a draft, the order inside every job: jimoku's plan
context still holds the catalogue; a plain script with one context re-reads it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.direct import PLAN_MAX_TOKENS, chat, draft_request
from bench.report import Row, Section
from graphs.llm import LlamaChatModel, LlamaConfig
from graphs.planner import plan_messages, plan_schema
from tools.context import ToolContext
from tools.registry import Registry

TARGET = 0.9
QUESTIONS = ["What is the serial number on this plate?", "Which model is on the nameplate?",
             "What voltage is written on the plate?", "What frequency does the label give?",
             "Is there a part number on this label?", "What does the plate say about the model?"]


def load(config: LlamaConfig) -> LlamaChatModel:
    """jimoku's planner model with its contexts created now (as the service's warm-up does)."""
    model = LlamaChatModel(config)
    model.load()
    return model


def context(model: LlamaChatModel, purpose: str) -> Any:
    """The `llama_cpp.Llama` jimoku uses for `purpose` (created if needed)."""
    with model._lock:
        return model._context(purpose)


def _timed(llama: Any, call: Callable[[], Any]) -> dict[str, Any]:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llama._ctx.ctx)
    started = time.perf_counter()
    call()
    wall = time.perf_counter() - started
    p = llama_cpp.llama_perf_context(llama._ctx.ctx)
    p_s, e_s = p.t_p_eval_ms / 1000, p.t_eval_ms / 1000
    return {"wall_s": wall, "prompt_s": p_s, "prompt_tokens": p.n_p_eval, "decode_s": e_s, "decode_tokens": p.n_eval,
            "prompt_tps": p.n_p_eval / p_s if p_s else None, "decode_tps": p.n_eval / e_s if e_s else None,
            "other_s": wall - p_s - e_s, "caller_decode_tps": p.n_eval / (wall - p_s) if wall > p_s else None}


def _jimoku(model: LlamaChatModel, messages: list[dict[str, str]], schema: dict[str, Any],
            max_tokens: int = PLAN_MAX_TOKENS, *, purpose: str = "plan", cold: bool = False) -> dict[str, Any]:
    llama = context(model, purpose)
    if cold:
        llama.reset()
    return _timed(llama, lambda: model.complete(messages, schema=schema, max_tokens=max_tokens, purpose=purpose))


def _direct(llama: Any, messages: list[dict[str, str]], schema: dict[str, Any],
            max_tokens: int = PLAN_MAX_TOKENS, *, cold: bool = False) -> dict[str, Any]:
    if cold:
        llama.reset()
    return _timed(llama, lambda: chat(llama, messages, schema, max_tokens))


def _request(n: int, registry: Registry, ctx: ToolContext, side: str) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Plan prompt number `n`; each side gets its own file name of the same length, so
    neither finds the other's exact prompt in the KV cache."""
    files = [{"id": "f1", "name": f"plate-{side}{n:02d}.png", "kind": "image", "sha256": "", "path": ""}]
    specs = list(registry)
    return plan_messages(QUESTIONS[n % len(QUESTIONS)], files, specs, ctx), plan_schema(specs, files)  # type: ignore[arg-type]


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs if r[key] is not None)


def measure(model: LlamaChatModel, registry: Registry, ctx: ToolContext, *, cold_reps: int, warm_reps: int,
            after_draft: bool) -> Section:
    """`cold_reps` cold plans and `warm_reps` second plans per side, in alternating order."""
    plan_ctx = context(model, "plan")
    colds: dict[str, list[dict[str, Any]]] = {"jimoku": [], "direct": []}
    for i in range(cold_reps):
        messages, schema = _request(0, registry, ctx, "c")
        for side in (("jimoku", "direct") if i % 2 == 0 else ("direct", "jimoku")):
            run = _jimoku(model, messages, schema, cold=True) if side == "jimoku" else \
                _direct(plan_ctx, messages, schema, cold=True)
            colds[side].append(run)
    wj, wd = [], []
    for n in range(1, warm_reps + 1):
        for side in (("d", "j") if n % 2 else ("j", "d")):
            request = _request(n, registry, ctx, side)
            (wj if side == "j" else wd).append(_jimoku(model, *request) if side == "j" else _direct(plan_ctx, *request))
    cj, cd = (min(colds[s], key=lambda r: r["wall_s"]) for s in ("jimoku", "direct"))
    section = Section("planner", raw={"cold": colds, "second": {"jimoku": wj, "direct": wd}})
    r_prompt = round(cj["prompt_tps"] / cd["prompt_tps"], 3)
    r_decode = round(_med(wj, "decode_tps") / _med(wd, "decode_tps"), 3)
    seen_j, seen_d = _med(wj, "caller_decode_tps"), _med(wd, "caller_decode_tps")
    r_seen = round(seen_j / seen_d, 3)
    section.rows += [
        Row("planner", f"first plan, cold: wall ({cj['prompt_tokens']} prompt tokens, best of {cold_reps})",
            f"{cj['wall_s']:.2f} s", f"{cd['wall_s']:.2f} s", round(cj["wall_s"] / cd["wall_s"], 3)),
        Row("planner", f"prompt eval tokens/s, cold plan (best of {cold_reps})", f"{cj['prompt_tps']:.1f}",
            f"{cd['prompt_tps']:.1f}", r_prompt, f"≥ {TARGET}× direct", r_prompt >= TARGET),
        Row("planner", f"generation tokens/s (llama.cpp counters), second plans, median of {len(wj)}",
            f"{_med(wj, 'decode_tps'):.1f}", f"{_med(wd, 'decode_tps'):.1f}", r_decode, f"≥ {TARGET}× direct",
            r_decode >= TARGET),
        Row("planner", "generation tokens/s as the caller sees it: completion tokens / (wall - prompt eval)",
            f"{seen_j:.1f}", f"{seen_d:.1f}", r_seen, f"≥ {TARGET}× direct", r_seen >= TARGET),
        Row("planner", "second plan, same catalogue: wall / of which outside prompt eval and decode",
            f"{_med(wj, 'wall_s'):.2f} s / {_med(wj, 'other_s'):.2f} s",
            f"{_med(wd, 'wall_s'):.2f} s / {_med(wd, 'other_s'):.2f} s", round(_med(wj, "wall_s") / _med(wd, "wall_s"), 3)),
    ]
    if after_draft:
        _after_draft(model, registry, ctx, section)
    return section


def _after_draft(model: LlamaChatModel, registry: Registry, ctx: ToolContext, section: Section) -> None:
    """A draft, then a plan. jimoku: each on its own context; direct: one context for both."""
    step = {"step": "s1", "tool": "ocr", "file": "f1", "ok": True, "error": None,
            "summary": 'Read 3 lines (mean confidence 0.95): "SERIAL NO. AX-0042-B" (0.96) "MODEL KX-242" (0.95) "200V 50Hz" (0.94)',
            "result": {"text": "SERIAL NO. AX-0042-B\nMODEL KX-242\n200V 50Hz"}}
    draft, draft_schema = draft_request(QUESTIONS[0], [step], [{"id": "f1", "name": "plate-d01.png", "kind": "image"}])
    n = len(QUESTIONS) + 1
    _jimoku(model, draft, draft_schema, 300, purpose="draft")
    j = _jimoku(model, *_request(n, registry, ctx, "j"))
    single = context(model, "plan")  # a plain script's only context
    _direct(single, draft, draft_schema, 300)
    d = _direct(single, *_request(n, registry, ctx, "d"))
    section.raw["plan_after_draft"] = {"jimoku": j, "direct": d}
    section.rows.append(Row("planner", "plan right after a draft: jimoku (context per purpose) vs one context",
                            f"{j['wall_s']:.2f} s ({j['prompt_tokens']} tokens evaluated)",
                            f"{d['wall_s']:.2f} s ({d['prompt_tokens']} tokens evaluated)", round(j["wall_s"] / d["wall_s"], 3)))
