"""Every store over one database, opened together from the settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


def private_data_dir(data_dir: Path) -> None:
    """Make the data folder the service's own: the folder and every folder in it 0700, every file
    0600 (the database, its WAL, uploads, the admin key file), also those an older release left
    0755/0644; and this process's umask 077, so whatever it creates there later is private too."""
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for root, dirs, files in os.walk(data_dir):
        _chmod(Path(root), 0o700)
        for name in files:
            _chmod(Path(root) / name, 0o600)
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]


def _chmod(path: Path, mode: int) -> None:
    try:
        if not path.is_symlink() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:  # gone meanwhile, or not ours: nothing to tighten
        pass


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
