"""The database layer: migrations on both backends, several processes upgrading at once, the
sweeper that queues accepted work with no queue entry, the admin key made once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.engine import Engine
from app.queue import APPLY_DECISION, RUN_JOB, ProcrastinateQueue, make_app, requeue_orphans
from app.settings import Settings
from app.store.db import open_database
from app.store.keys import KeyStore
from app.store.migrations import MIGRATIONS, pending, upgrade
from app.store.outcomes import OutcomeStore
from app.store.policies import PolicyStore
from graphs.policy import Policy
from graphs.testing import ScriptedChatModel
from tests.fixtures.images import render_nameplate
from tests.fixtures.postgres import Postgres


def test_upgrade_applies_each_migration_once(tmp_path: Path, database_url: str | None) -> None:
    db = open_database(database_url, tmp_path / "jimoku.db")
    assert [v for v, _ in pending(db)] == [v for v, _, _ in MIGRATIONS]
    assert upgrade(db) == [v for v, _, _ in MIGRATIONS]
    assert upgrade(db) == [] and pending(db) == []
    tables = {"jobs", "decisions", "api_keys", "policies", "outcomes", "tool_results", "job_events", "artifacts"}
    for table in tables:
        assert db.one(f"SELECT COUNT(*) FROM {table}") == (0,)
    if database_url:  # the checkpointer's and the queue's schemas come with it
        assert db.one("SELECT to_regclass('checkpoints') IS NOT NULL, to_regclass('procrastinate_jobs') IS NOT NULL") \
            == (True, True)
    db.close()


def test_a_database_from_the_first_release_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "jimoku.db"
    with sqlite3.connect(path) as old:  # the jobs table as the first release made it, with a job
        old.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, question TEXT NOT NULL, "
                    "files TEXT NOT NULL, auto_approve INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                    "error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, submitted_by TEXT, "
                    "claimed_by TEXT, claimed_until TEXT, awaiting_since TEXT)")
        old.execute("INSERT INTO jobs VALUES ('j1', 'queued', 'Serial?', '[]', 0, 0, NULL, 't', 't', NULL, "
                    "NULL, NULL, NULL)")
    db = open_database(None, path)
    upgrade(db)
    assert db.one("SELECT id, status, submitter_key FROM jobs") == ("j1", "queued", None)


def test_five_processes_upgrading_one_new_database_at_once(postgres: Postgres) -> None:
    """Two APIs and three workers starting together: one applies, the others find it done."""
    env = {**os.environ, "JIMOKU_DATABASE_URL": postgres.new_database()}
    procs = [subprocess.Popen([sys.executable, "-m", "app", "db", "upgrade"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(5)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, outputs
    assert sum(f"applied {[v for v, _, _ in MIGRATIONS]}" in out for out in outputs) == 1, outputs
    assert sum("up to date" in out for out in outputs) == 4, outputs


def test_first_admin_key_is_made_once(tmp_path: Path, database_url: str | None) -> None:
    db = open_database(database_url, tmp_path / "jimoku.db")
    upgrade(db)
    store = KeyStore(db)
    assert store.create_first_admin() is not None
    assert store.create_first_admin() is None
    assert [k["role"] for k in store.list()] == ["admin"]


def test_accepted_work_without_a_queue_entry_is_queued_again(tmp_path: Path, postgres: Postgres) -> None:
    """The API stored a job (or a decision) and died before queueing it: a worker's sweep queues it."""
    url = postgres.new_database()
    plan = {"steps": [{"tool": "ocr", "file": "f1"}]}
    draft = {"answer": "Serial AX-4471-B.", "citations": ["s1"], "answerable": True}
    engine = Engine(Settings(data_dir=tmp_path / "data", database_url=url), llm=ScriptedChatModel([plan, draft]))
    job = engine.submit("Serial?", [(render_nameplate(tmp_path / "plate.png"), "plate.png")])  # not queued
    queue = ProcrastinateQueue(make_app(url).open(), results=engine.cache)

    def queued() -> list[tuple[str, str, str]]:
        return engine.db.all("SELECT task_name, args->>'job_id', status FROM procrastinate_jobs ORDER BY id")

    requeue_orphans(engine.db, queue, older_than_seconds=0)
    assert queued() == [(RUN_JOB, job.id, "todo")]
    requeue_orphans(engine.db, queue, older_than_seconds=0)  # it has an entry now: not queued twice
    assert len(queued()) == 1
    assert engine.run(job.id).status == "awaiting_review"
    engine.jobs.record_decision(job.id, {"decision": "approve", "reviewer": "ana"})  # recorded, not queued
    requeue_orphans(engine.db, queue, older_than_seconds=0)
    assert queued()[1:] == [(APPLY_DECISION, job.id, "todo")]
    queue.close()
    engine.close()


def test_policy_and_outcome_stores_on_both_backends(tmp_path: Path, database_url: str | None) -> None:
    """Policy versions from concurrent writers are 1..n with no gap or clash; the history
    statistics read the same on both engines."""
    db = open_database(database_url, tmp_path / "jimoku.db")
    upgrade(db)
    policies = PolicyStore(db)
    with ThreadPoolExecutor(4) as pool:
        versions = sorted(pool.map(lambda i: policies.put(Policy(audit_rate=i / 10), changed_by=f"admin{i}"), range(4)))
    assert versions == [1, 2, 3, 4] and policies.current()[1] == 4
    assert policies.pause("ocr", "audit disagreed") == 5 and "ocr" in policies.current()[0].paused_case_kinds
    outcomes = OutcomeStore(db)
    for n, (decision, confidence) in enumerate([("approve", 0.9), ("edit", 0.5), ("auto_approve", 0.97)]):
        doc = {"id": f"j{n}", "status": "approved", "confidence": confidence, "flags": [{"kind": "conflict"}],
               "routing": {"case_kind": "ocr", "route": "human", "audit": False},
               "review": {"decision": decision, "reviewer": "ana", "at": f"2026-11-28T10:0{n}:00+00:00"}}
        outcomes.record(doc, awaiting_since="2026-11-28T10:00:00+00:00", finished_at=f"2026-11-28T10:0{n}:00+00:00")
        outcomes.record(doc, awaiting_since=None, finished_at="2026-11-29T00:00:00+00:00")  # first record wins
    assert sorted(outcomes.reviewed_history()) == [(0.5, False), (0.9, True)]
    stats = outcomes.stats()
    assert stats["automation"] == [{"day": "2026-11-28", "jobs": 3, "auto_approved": 1, "ratio": 0.333}]
    assert stats["top_flags"] == [{"kind": "conflict", "count": 3}]
    assert [r["id"] for r in outcomes.export(since="2026-11-28T10:01:00+00:00")] == ["j1", "j2"]
    db.close()
