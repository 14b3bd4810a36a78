"""What the drafting LLM is given: facts computed in code, the step summaries, a schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphs.consistency import conflicts, count_mismatch
from graphs.grounding import compute_facts
from graphs.prompts import DRAFT_SYSTEM, DRAFT_USER
from graphs.state import Attachment, StepResult


def draft_facts(question: str, steps: Sequence[StepResult], files: Sequence[Attachment]) -> list[str]:
    """Facts per step, plus the disagreements found in code, so the draft cannot paper over them."""
    disagreements = conflicts(steps) + count_mismatch(question, steps)
    return compute_facts(steps, files) + [
        f"{'the evidence disagrees' if f['kind'] != 'uncertain_match' else 'probably the same value'}: "
        f"{f['message']} (steps {', '.join(f['steps'])})" for f in disagreements]


def draft_request(question: str, steps: Sequence[StepResult], facts: Sequence[str]
                  ) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The messages and the JSON schema of the draft: citations can only name steps that succeeded."""
    step_ids = [s["step"] for s in steps if s["ok"]]
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "minLength": 1, "maxLength": 600},
            "citations": {"type": "array", "items": {"enum": step_ids}, "maxItems": len(step_ids)},
            "answerable": {"type": "boolean"},
        },
        "required": ["answer", "citations", "answerable"],
    }
    evidence = "\n".join(
        f"{s['step']} ({s['tool']} on {s['file']}): " + (s["summary"] if s["ok"] else f"ERROR {s['error']}")
        for s in steps
    )
    messages = [
        {"role": "system", "content": DRAFT_SYSTEM},
        {"role": "user", "content": DRAFT_USER.format(
            question=question, facts="\n".join(f"- {f}" for f in facts), evidence=evidence)},
    ]
    return messages, schema
