"""The outcome of every finished job: the history that automation is earned from.

One row per job when it becomes final: its confidence, case kind, flags, how it was
decided (by a person, by rule, or as an audit) and whether the draft stood unchanged.
Threshold proposals, the automation dashboard and the JSONL export read this table.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from app.store.db import Database
from graphs.contract import DECISIONS


class OutcomeStore:
    """Finished jobs, for statistics and export."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, doc: dict[str, Any], *, awaiting_since: str | None, finished_at: str) -> None:
        """Store a final job document (`app.document.job_document`; the export returns it as it is).
        Idempotent: the first record of a job wins."""
        review = doc.get("review") or {}
        routing = doc.get("routing") or {}
        decision = review.get("decision")
        unchanged = None if decision is None else int(decision in ("approve", "auto_approve"))
        self.db.write(
            "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
            (doc["id"], finished_at, doc["status"], decision, review.get("reviewer"), doc.get("confidence"),
             routing.get("case_kind"), json.dumps([f["kind"] for f in doc.get("flags", [])]),
             routing.get("route"), int(bool(routing.get("audit"))), unchanged, awaiting_since,
             review.get("at"), json.dumps(doc, ensure_ascii=False)),
        )

    def reviewed_history(self) -> list[tuple[float, bool]]:
        """(confidence, approved unchanged) of drafts a person decided on."""
        rows = self.db.all(
            f"SELECT confidence, draft_unchanged FROM outcomes WHERE decision IN ({', '.join('?' * len(DECISIONS))}) "
            "AND confidence IS NOT NULL", DECISIONS)
        return [(float(c), bool(u)) for c, u in rows]

    def reviewed_history_of(self, case_kind: str) -> list[tuple[float, bool]]:
        """`reviewed_history` for one case kind ("ocr", "asr+ocr")."""
        rows = self.db.all(
            f"SELECT confidence, draft_unchanged FROM outcomes WHERE decision IN ({', '.join('?' * len(DECISIONS))}) "
            "AND confidence IS NOT NULL AND case_kind = ?", (*DECISIONS, case_kind))
        return [(float(c), bool(u)) for c, u in rows]

    def trust_rows(self) -> list[tuple[Any, ...]]:
        """(case kind, decision, audit, draft unchanged, record) of decided jobs, for the trust statistics."""
        return self.db.all("SELECT case_kind, decision, audit, draft_unchanged, record FROM outcomes "
                           "WHERE decision IS NOT NULL")

    def export(self, *, since: str | None = None) -> list[dict[str, Any]]:
        """Reviewed jobs as records (question, evidence, draft, final, decision), oldest first."""
        query, args = "SELECT record FROM outcomes WHERE decision IS NOT NULL", []
        if since:
            query += " AND finished_at >= ?"
            args.append(since)
        rows = self.db.all(query + " ORDER BY finished_at", tuple(args))
        return [json.loads(r[0]) for r in rows]

    def stats(self) -> dict[str, Any]:
        """Automation ratio per day, audit precision, review turnaround, most frequent flags."""
        rows = self.db.all(
            "SELECT substr(finished_at, 1, 10), decision, audit, draft_unchanged, awaiting_since, decided_at, flags "
            "FROM outcomes WHERE decision IS NOT NULL ORDER BY finished_at")
        days: dict[str, Counter[str]] = {}
        audits = audits_agreed = 0
        turnaround: list[float] = []
        flags: Counter[str] = Counter()
        for day, decision, audit, unchanged, since, decided, flag_json in rows:
            c = days.setdefault(day, Counter())
            c["total"] += 1
            c["auto"] += decision == "auto_approve"
            if audit:
                audits += 1
                audits_agreed += bool(unchanged)
            if decision != "auto_approve" and since and decided:
                turnaround.append((datetime.fromisoformat(decided) - datetime.fromisoformat(since)).total_seconds())
            flags.update(json.loads(flag_json))
        turnaround.sort()

        def pct(q: float) -> float | None:
            return round(turnaround[min(len(turnaround) - 1, int(q * len(turnaround)))], 1) if turnaround else None

        return {
            "automation": [{"day": d, "jobs": c["total"], "auto_approved": c["auto"],
                            "ratio": round(c["auto"] / c["total"], 3)} for d, c in days.items()],
            "audits": {"count": audits, "agreed": audits_agreed,
                       "precision": round(audits_agreed / audits, 3) if audits else None},
            "review_turnaround_s": {"count": len(turnaround), "p50": pct(0.5), "p95": pct(0.95)},
            "top_flags": [{"kind": k, "count": n} for k, n in flags.most_common(10)],
            "decided": len(rows),
        }
