"""The fingerprint of what a reviewer sees: a decision is bound to it.

sha256 over a canonical JSON of the parts of the job document a reviewer decides on: the
question, the draft and its citations, the flags and confidence, each step's evidence (tool,
outcome, summary, confidence, error, result) and, under a two-person rule, the candidate answer
and its round. A re-run after a crash, a re-plan, or another reviewer's edit changes it; a
second reviewer's approval of the same answer does not (they approve the same thing), nor does
a claim.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

_STEP_FIELDS = ("step", "tool", "file", "ok", "summary", "confidence", "error", "result")


def fingerprint(doc: Mapping[str, Any]) -> str:
    """The fingerprint of a job document (app/document.py), as a hex sha256."""
    seen = {
        "id": doc.get("id"), "question": doc.get("question"), "status": doc.get("status"),
        "draft_answer": doc.get("draft_answer"), "citations": doc.get("citations", []),
        "cited_lines": doc.get("cited_lines", []), "facts": doc.get("facts", []), "flags": doc.get("flags", []),
        "confidence": doc.get("confidence"),
        "steps": [{k: s.get(k) for k in _STEP_FIELDS} for s in doc.get("steps", [])],
        "candidate_answer": doc.get("candidate_answer"), "approval_round": doc.get("approval_round", 0),
    }
    canonical = json.dumps(seen, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
