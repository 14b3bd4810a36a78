"""Shared fixtures: real settings, a real tool context, the registry with plugins loaded."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from app.settings import Settings
from tests.fixtures.postgres import Postgres, running_postgres
from tools.context import ToolContext
from tools.plugins import load_plugins
from tools.registry import REGISTRY, Registry

# Plugins installed on this machine stay out of the test run (a test that installs one
# turns entry points back on for its own subprocess).
os.environ["JIMOKU_ENTRY_POINTS"] = "0"
# Most tests script or assert the LLM's plan and draft; the code-written plan and answer of a
# field question (graphs/planner.field_plan, graphs/extractive.py: on in the service) have
# their own tests, which turn them back on.
os.environ.setdefault("JIMOKU_EXTRACTIVE_ANSWERS", "0")
os.environ.setdefault("JIMOKU_FIELD_PLANS", "0")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def tool_ctx(settings: Settings) -> ToolContext:
    return settings.tool_context()


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The process registry with the built-in tools loaded through the plugin path."""
    load_plugins(entry_points=False)
    return REGISTRY


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One private PostgreSQL server for the whole run (each test gets its own database)."""
    with running_postgres() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Run a test on both backends, as LangGraph tests its checkpointers: None is the embedded
    SQLite file; otherwise a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres").new_database()
