"""Planner: tokens per second through jimoku's `LlamaChatModel` vs `llama_cpp.Llama` directly.

Both load the same GGUF with the same parameters; jimoku's adds its `LlamaRAMCache`
(prefix states kept across prompts). Both see the same plan prompts, one after the other:
a cold one (empty KV cache), then "second plans" with another question and file name
but the same tool catalogue, which reuse the catalogue prefix. Prompt-eval and decode
rates come from llama.cpp's own counters (`llama_perf_context`), the rest is wall time.
The full run also measures a plan right after a draft (the order inside every job),
where only the RAM cache keeps the catalogue prefix, and the cost of the RAM cache's
`save_state` / `load_state`, which jimoku pays on every completion.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.direct import PLAN_MAX_TOKENS, chat, draft_request, load_llama
from bench.report import Row, Section
from graphs.llm import LlamaChatModel, LlamaConfig
from graphs.planner import plan_messages, plan_schema
from tools.context import ToolContext
from tools.registry import Registry

TARGET = 0.9
QUESTIONS = ["What is the serial number on this plate?", "Which model is on the nameplate?",
             "What voltage is written on the plate?", "What frequency does the label give?",
             "Is there a part number on this label?", "What does the plate say about the model?"]


@dataclass
class Planners:
    """The two planner instances, kept for the end-to-end stage."""

    jimoku: LlamaChatModel
    direct: Any  # llama_cpp.Llama without a RAM cache


def load(config: LlamaConfig) -> Planners:
    """jimoku's model (loaded now, as the service's warm-up does) and a plain Llama."""
    jimoku = LlamaChatModel(config)
    jimoku.load()
    direct = load_llama(config.path, n_ctx=config.n_ctx, n_threads=config.n_threads,
                        chat_format=config.chat_format, seed=config.seed)
    return Planners(jimoku, direct)


def _perf(llama: Any) -> tuple[float, int, float, int]:
    import llama_cpp

    p = llama_cpp.llama_perf_context(llama._ctx.ctx)
    return p.t_p_eval_ms / 1000, p.n_p_eval, p.t_eval_ms / 1000, p.n_eval


def _timed(llama: Any, call: Any) -> dict[str, Any]:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llama._ctx.ctx)
    started = time.perf_counter()
    call()
    wall = time.perf_counter() - started
    p_s, p_n, e_s, e_n = _perf(llama)
    return {"wall_s": wall, "prompt_s": p_s, "prompt_tokens": p_n, "decode_s": e_s, "decode_tokens": e_n,
            "prompt_tps": p_n / p_s if p_s else None, "decode_tps": e_n / e_s if e_s else None,
            "other_s": wall - p_s - e_s}


def _request(n: int, registry: Registry, ctx: ToolContext) -> tuple[list[dict[str, str]], dict[str, Any]]:
    files = [{"id": "f1", "name": f"plate-p{n:02d}.png", "kind": "image", "sha256": "", "path": ""}]
    specs = list(registry)
    return plan_messages(QUESTIONS[n % len(QUESTIONS)], files, specs, ctx), plan_schema(specs, files)  # type: ignore[arg-type]


def _both(p: Planners, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = PLAN_MAX_TOKENS,
          direct_first: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    llm = p.jimoku._llm
    runs = {
        "jimoku": lambda: _timed(llm, lambda: p.jimoku.complete(messages, schema=schema, max_tokens=max_tokens)),
        "direct": lambda: _timed(p.direct, lambda: chat(p.direct, messages, schema, max_tokens)),
    }
    order = ("direct", "jimoku") if direct_first else ("jimoku", "direct")
    out = {name: runs[name]() for name in order}
    return out["jimoku"], out["direct"]


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs if r[key] is not None)


def measure(p: Planners, registry: Registry, ctx: ToolContext, *, warm_reps: int, after_draft: bool) -> Section:
    """Cold plan, `warm_reps` second plans (alternating order), optionally a plan after a draft."""
    raw: dict[str, Any] = {}
    raw["cold"] = _both(p, *_request(0, registry, ctx))
    warm = [_both(p, *_request(n, registry, ctx), direct_first=n % 2 == 0) for n in range(1, warm_reps + 1)]
    raw["second"] = warm
    cj, cd = raw["cold"]
    wj, wd = [w[0] for w in warm], [w[1] for w in warm]
    section = Section("planner", raw=raw)
    r_prompt = cj["prompt_tps"] / cd["prompt_tps"]
    r_decode = _med(wj + [cj], "decode_tps") / _med(wd + [cd], "decode_tps")
    section.rows += [
        Row("planner", f"first plan, cold: wall ({cj['prompt_tokens']} prompt tokens)", f"{cj['wall_s']:.2f} s",
            f"{cd['wall_s']:.2f} s", round(cj["wall_s"] / cd["wall_s"], 3)),
        Row("planner", "prompt eval tokens/s (cold plan)", f"{cj['prompt_tps']:.1f}", f"{cd['prompt_tps']:.1f}",
            round(r_prompt, 3), f"≥ {TARGET}× direct", r_prompt >= TARGET),
        Row("planner", f"generation tokens/s (median of {len(wj) + 1} plans)", f"{_med(wj + [cj], 'decode_tps'):.1f}",
            f"{_med(wd + [cd], 'decode_tps'):.1f}", round(r_decode, 3), f"≥ {TARGET}× direct", r_decode >= TARGET),
        Row("planner", f"second plan, same catalogue: wall, median of {len(wj)}", f"{_med(wj, 'wall_s'):.2f} s",
            f"{_med(wd, 'wall_s'):.2f} s", round(_med(wj, "wall_s") / _med(wd, "wall_s"), 3)),
        Row("planner", "second plan: time outside prompt eval and decode, median", f"{_med(wj, 'other_s'):.2f} s",
            f"{_med(wd, 'other_s'):.2f} s"),
    ]
    if after_draft:
        _after_draft(p, registry, ctx, section)
    _state_cost(p, section)
    return section


def _after_draft(p: Planners, registry: Registry, ctx: ToolContext, section: Section) -> None:
    """A draft, then a plan: the order inside a job. Only the RAM cache keeps the catalogue."""
    step = {"step": "s1", "tool": "ocr", "file": "f1", "ok": True, "error": None,
            "summary": 'Read 3 lines (mean confidence 0.95): "SERIAL NO. AX-0042-B" (0.96) "MODEL KX-242" (0.95) "200V 50Hz" (0.94)',
            "result": {"text": "SERIAL NO. AX-0042-B\nMODEL KX-242\n200V 50Hz"}}
    files = [{"id": "f1", "name": "plate-d01.png", "kind": "image"}]
    messages, schema = draft_request(QUESTIONS[0], [step], files)
    _both(p, messages, schema, max_tokens=300)
    j, d = _both(p, *_request(len(QUESTIONS) + 1, registry, ctx))
    section.raw["plan_after_draft"] = (j, d)
    section.rows.append(Row("planner", "plan right after a draft (as in every job): wall",
                            f"{j['wall_s']:.2f} s ({j['prompt_tokens']} tokens evaluated)",
                            f"{d['wall_s']:.2f} s ({d['prompt_tokens']} tokens evaluated)", round(j["wall_s"] / d["wall_s"], 3)))


def _state_cost(p: Planners, section: Section) -> None:
    """What LlamaRAMCache costs per completion: a save_state after it, a load_state on a hit."""
    llm = p.jimoku._llm
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
        Row("planner", "LlamaRAMCache: save_state / load_state per call (jimoku only)",
            f"{saved:.2f} s / {loaded:.2f} s", f"each copies {scores_mb:.0f} MB logits + {kv_mb:.0f} MB KV state"),
        Row("planner", f"LlamaRAMCache now: {len(states)} states, counted vs held in RAM",
            f"{counted:,.0f} MB counted (capacity {llm.cache.capacity_bytes / 1e6:,.0f} MB)", f"{held:,.0f} MB held"),
    ]
