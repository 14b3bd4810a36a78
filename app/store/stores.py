"""Every store over one database, opened together from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from langgraph.checkpoint.base import BaseCheckpointSaver

from app.settings import Settings
from app.store.artifacts import ArtifactStore
from app.store.checkpointers import checkpointer_for, close_checkpointer
from app.store.db import Database
from app.store.event_log import EventLog
from app.store.jobs import JobStore
from app.store.keys import KeyStore
from app.store.migrations import database_for
from app.store.outcomes import OutcomeStore
from app.store.policies import PolicyStore
from app.store.results import DatabaseResultCache


@dataclass
class Stores:
    """What one process keeps: jobs, events, uploads, outcomes, policies, keys, tool results and
    the graph's checkpoints, all in the database the settings name."""

    db: Database
    jobs: JobStore
    events: EventLog
    artifacts: ArtifactStore
    outcomes: OutcomeStore
    policies: PolicyStore
    keys: KeyStore
    results: DatabaseResultCache
    checkpointer: BaseCheckpointSaver

    def close(self) -> None:
        """Release the database connections (tests open many)."""
        close_checkpointer(self.checkpointer)
        self.db.close()


def open_stores(settings: Settings) -> Stores:
    """Open the database (schema brought up to date) and every store over it."""
    db = database_for(settings)
    # With PostgreSQL the uploads are kept in the database too: a worker on another machine
    # reads them from there. On one machine the files folder is enough.
    shared = db if db.dialect == "postgres" else None
    return Stores(
        db=db,
        jobs=JobStore(db),
        events=EventLog(db),
        artifacts=ArtifactStore(settings.data_dir / "artifacts", shared),
        outcomes=OutcomeStore(db),
        policies=PolicyStore(db),
        keys=KeyStore(db),
        results=DatabaseResultCache(db),
        checkpointer=checkpointer_for(db),
    )
