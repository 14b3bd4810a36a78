"""Shared fixtures: real settings, a real tool context, the registry with plugins loaded."""

from __future__ import annotations

import pytest

from app.settings import Settings
from tools.context import ToolContext
from tools.plugins import load_plugins
from tools.registry import REGISTRY, Registry


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def tool_ctx(settings: Settings) -> ToolContext:
    return settings.tool_context()


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The process registry with the built-in tools loaded through the entry-point path."""
    load_plugins()
    return REGISTRY
