"""Planner: tokens per second through jimoku's `LlamaChatModel` vs `llama_cpp.Llama` directly.

One model is loaded, the way `app.engine.Engine` loads it (`LlamaChatModel`, which adds a
`LlamaRAMCache` of prefix states). "Direct" calls `create_chat_completion` on the very
same `Llama` object with the RAM cache detached, so both sides run on the same weights,
threads and context, and differ only in what jimoku wraps around the call. Prompts are
plan prompts: a cold one (empty KV cache; the direct cold run follows a `reset()`), then
"second plans" with another question and file name but the same tool catalogue, which
reuse the catalogue prefix (llama.cpp keeps the previous prompt's KV). Prompt-eval and
decode rates come from llama.cpp's counters (`llama_perf_context`), the rest is wall.
The full run also measures a plan right after a draft (the order inside every job),
where only the RAM cache still holds the catalogue prefix. Last, the cost of the RAM
cache's `save_state` / `load_state`, which jimoku pays around completions.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """jimoku's planner model, loaded now (as the service's warm-up does)."""
    model = LlamaChatModel(config)
    model.load()
    return model


@contextmanager
def detached(llama: Any) -> Iterator[Any]:
    """The Llama without its RAM cache: plain llama_cpp, KV prefix reuse only."""
    cache, llama.cache = llama.cache, None
    try:
        yield llama
    finally:
        llama.cache = cache


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
            "other_s": wall - p_s - e_s}


def _jimoku(model: LlamaChatModel, messages: list[dict[str, str]], schema: dict[str, Any],
            max_tokens: int = PLAN_MAX_TOKENS) -> dict[str, Any]:
    return _timed(model._llm, lambda: model.complete(messages, schema=schema, max_tokens=max_tokens))


def _direct(model: LlamaChatModel, messages: list[dict[str, str]], schema: dict[str, Any],
            max_tokens: int = PLAN_MAX_TOKENS, *, cold: bool = False) -> dict[str, Any]:
    with detached(model._llm) as llama:
        if cold:
            llama.reset()
        return _timed(llama, lambda: chat(llama, messages, schema, max_tokens))


def _request(n: int, registry: Registry, ctx: ToolContext) -> tuple[list[dict[str, str]], dict[str, Any]]:
    files = [{"id": "f1", "name": f"plate-p{n:02d}.png", "kind": "image", "sha256": "", "path": ""}]
    specs = list(registry)
    return plan_messages(QUESTIONS[n % len(QUESTIONS)], files, specs, ctx), plan_schema(specs, files)  # type: ignore[arg-type]


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs if r[key] is not None)


def measure(model: LlamaChatModel, registry: Registry, ctx: ToolContext, *, warm_reps: int, cold_direct: bool,
            after_draft: bool) -> Section:
    """jimoku's cold plan (and the direct one), `warm_reps` second plans each (alternating)."""
    section = Section("planner")
    messages, schema = _request(0, registry, ctx)
    cj = _jimoku(model, messages, schema)  # the model is fresh: this is its first prompt
    cd = _direct(model, messages, schema, cold=True) if cold_direct else None
    wj, wd = [], []
    for n in range(1, warm_reps + 1):
        messages, schema = _request(n, registry, ctx)
        if n % 2:
            wd.append(_direct(model, messages, schema))
            wj.append(_jimoku(model, messages, schema))
        else:
            wj.append(_jimoku(model, messages, schema))
            wd.append(_direct(model, messages, schema))
    section.raw.update({"cold": {"jimoku": cj, "direct": cd}, "second": {"jimoku": wj, "direct": wd}})
    if cd is not None:
        r_prompt = round(cj["prompt_tps"] / cd["prompt_tps"], 3)
        section.rows += [
            Row("planner", f"first plan, cold: wall ({cj['prompt_tokens']} prompt tokens)", f"{cj['wall_s']:.2f} s",
                f"{cd['wall_s']:.2f} s", round(cj["wall_s"] / cd["wall_s"], 3)),
            Row("planner", "prompt eval tokens/s, cold plan", f"{cj['prompt_tps']:.1f}", f"{cd['prompt_tps']:.1f}",
                r_prompt, f"≥ {TARGET}× direct", r_prompt >= TARGET),
        ]
    else:
        r_prompt = round(_med(wj, "prompt_tps") / _med(wd, "prompt_tps"), 3)
        section.rows += [
            Row("planner", f"first plan, cold: wall ({cj['prompt_tokens']} prompt tokens)", f"{cj['wall_s']:.2f} s",
                "not run (quick)"),
            Row("planner", f"prompt eval tokens/s, second plans (~{_med(wj, 'prompt_tokens'):.0f} new tokens; quick)",
                f"{_med(wj, 'prompt_tps'):.1f}", f"{_med(wd, 'prompt_tps'):.1f}", r_prompt, f"≥ {TARGET}× direct",
                r_prompt >= TARGET),
        ]
    r_decode = round(_med(wj, "decode_tps") / _med(wd, "decode_tps"), 3)
    r_wall = round(_med(wj, "wall_s") / _med(wd, "wall_s"), 3)
    section.rows += [
        Row("planner", f"generation tokens/s, second plans (median of {len(wj)})", f"{_med(wj, 'decode_tps'):.1f}",
            f"{_med(wd, 'decode_tps'):.1f}", r_decode, f"≥ {TARGET}× direct", r_decode >= TARGET),
        Row("planner", "second plan, same catalogue: wall / of which outside prompt eval and decode",
            f"{_med(wj, 'wall_s'):.2f} s / {_med(wj, 'other_s'):.2f} s",
            f"{_med(wd, 'wall_s'):.2f} s / {_med(wd, 'other_s'):.2f} s", r_wall),
    ]
    if after_draft:
        _after_draft(model, registry, ctx, section)
    _state_cost(model, section)
    return section


def _after_draft(model: LlamaChatModel, registry: Registry, ctx: ToolContext, section: Section) -> None:
    """A draft, then a plan: the order inside a job. Only the RAM cache keeps the catalogue."""
    step = {"step": "s1", "tool": "ocr", "file": "f1", "ok": True, "error": None,
            "summary": 'Read 3 lines (mean confidence 0.95): "SERIAL NO. AX-0042-B" (0.96) "MODEL KX-242" (0.95) "200V 50Hz" (0.94)',
            "result": {"text": "SERIAL NO. AX-0042-B\nMODEL KX-242\n200V 50Hz"}}
    draft, draft_schema = draft_request(QUESTIONS[0], [step], [{"id": "f1", "name": "plate-d01.png", "kind": "image"}])
    plan, schema = _request(len(QUESTIONS) + 1, registry, ctx)
    _jimoku(model, draft, draft_schema, 300)
    j = _jimoku(model, plan, schema)
    _direct(model, draft, draft_schema, 300)
    d = _direct(model, plan, schema)
    section.raw["plan_after_draft"] = {"jimoku": j, "direct": d}
    section.rows.append(Row("planner", "plan right after a draft (as in every job): wall",
                            f"{j['wall_s']:.2f} s ({j['prompt_tokens']} tokens evaluated)",
                            f"{d['wall_s']:.2f} s ({d['prompt_tokens']} tokens evaluated)", round(j["wall_s"] / d["wall_s"], 3)))


def _state_cost(model: LlamaChatModel, section: Section) -> None:
    """What LlamaRAMCache costs: a save_state after every completion, a load_state on a hit."""
    llm = model._llm
    started = time.perf_counter()
    state = llm.save_state()
    saved = time.perf_counter() - started
    started = time.perf_counter()
    llm.load_state(state)
    loaded = time.perf_counter() - started
    scores_mb, kv_mb = state.scores.nbytes / 1e6, state.llama_state_size / 1e6
    states = list(llm.cache.cache_state.values())
    counted = llm.cache.cache_size / 1e6
    held = sum(s.scores.nbytes + s.llama_state_size + s.input_ids.nbytes for s in states) / 1e6
    section.raw["state_cost"] = {"save_s": saved, "load_s": loaded, "scores_mb": scores_mb, "llama_state_mb": kv_mb,
                                 "cache_states": len(states), "cache_counted_mb": counted, "cache_held_mb": held,
                                 "capacity_mb": llm.cache.capacity_bytes / 1e6}
    section.rows += [
        Row("planner", "LlamaRAMCache: save_state / load_state, one each (jimoku only)",
            f"{saved:.2f} s / {loaded:.2f} s", f"each copies {scores_mb:.0f} MB logits + {kv_mb:.0f} MB KV state"),
        Row("planner", f"LlamaRAMCache now: {len(states)} states, size counted vs held in RAM",
            f"{counted:,.0f} MB counted (capacity {llm.cache.capacity_bytes / 1e6:,.0f} MB)", f"{held:,.0f} MB held"),
    ]
