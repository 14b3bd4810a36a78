"""The job document: one job's index row and graph state as one JSON object.

The API's `JobPublic`, the CLI's printout, the outcome record (and so the JSONL export)
and the review queue are all this document or a part of it; its fields are listed here
and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.fingerprint import fingerprint
from app.store.jobs import JobRow

PUBLIC_FILE_FIELDS = ("id", "name", "kind", "sha256")
"""What a document says about an attached file (never where it lies on a disk)."""


def job_document(job: JobRow, state: Mapping[str, Any], approvals: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The job as one document: the index row (status, who, when) plus the graph state
    (plan, steps, draft, flags, confidence, review, routing), the approvals so far
    (`approvals`, `approvals_needed`, `approval_round`, `candidate_answer`: app/review.py) and
    the `fingerprint` of what a reviewer sees (app/fingerprint.py), which a decision sends back."""
    doc = {
        "id": job.id, "status": job.status, "error": job.error, "question": job.question,
        "files": [{k: f[k] for k in PUBLIC_FILE_FIELDS} for f in job.files],
        "plan": state.get("plan", []), "plan_notes": state.get("plan_notes", []),
        "steps": state.get("steps", []), "facts": state.get("facts", []),
        "glances": state.get("glances", {}), "rounds": state.get("rounds", []),
        "draft_answer": state.get("draft_answer"), "draft_source": state.get("draft_source"),
        "citations": state.get("citations", []),
        "cited_lines": state.get("cited_lines", []),
        "final_answer": state.get("final_answer"), "flags": state.get("flags", []),
        "confidence": state.get("confidence"), "confidence_explained": state.get("confidence_explained"),
        "review": state.get("review"), "routing": state.get("routing"), "timestamps": state.get("timestamps", {}),
        "created_at": job.created_at, "updated_at": job.updated_at, "submitted_by": job.submitted_by,
        "claimed_by": job.claimed_by, "claimed_until": job.claimed_until, "awaiting_since": job.awaiting_since,
        "approvals": [], "approvals_needed": 1, "approval_round": 0, "candidate_answer": None,
        **(approvals or {}),
    }
    doc["fingerprint"] = fingerprint(doc)
    return doc
