"""Let the planner see a little: a glance at each file before the first plan.

The planner cannot see an image; told only "f1: image file named p.png" it sends a
question about a sign to the people detector. So each image and document is read once
by the registered text reader (the same call, arguments and cache key as a plan step
with default arguments, so a plan that then chooses that reader costs nothing more),
and the planner is told whether the file holds text and its first few words. The glance
is not evidence: the draft sees only the planned steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphs.context import GraphContext
from graphs.state import Attachment
from graphs.steps import run_once
from tools.registry import FileKind, Produces

_WORDS = 12


def glance(ctx: GraphContext, job_id: str, files: Sequence[Attachment]) -> dict[str, str]:
    """File id → what a glance found ("holds text: ...", "no text seen"), for images and documents."""
    out: dict[str, str] = {}
    for f in files:
        kind = FileKind(f["kind"])
        readers = ctx.registry.producing(Produces.TEXT, kind)
        if kind is FileKind.AUDIO or not readers:
            continue
        run, _ = run_once(readers[0], f, {}, cache=ctx.cache, single_flight=ctx.single_flight,
                          tool_ctx=ctx.tool_ctx, artifact_path=ctx.artifact_path,
                          run_elsewhere=ctx.run_elsewhere, job_id=job_id)
        text = " ".join(str((run.get("result") or {}).get("text") or "").split()) if run["ok"] else ""
        words = text.split(" ")
        if len(text) >= 3:
            shown = " ".join(words[:_WORDS]) + (" …" if len(words) > _WORDS else "")
            out[f["id"]] = f"holds printed text ({len(words)} words), beginning: {shown[:120]!r}"
        else:
            out[f["id"]] = "no printed text seen"
    return out
