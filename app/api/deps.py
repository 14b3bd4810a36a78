"""Every dependency a route can declare, in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.settings import Settings, get_settings
from app.tooling import load_registry
from tools.context import ToolContext
from tools.registry import Registry

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_registry(settings: SettingsDep) -> Registry:
    """The tool registry (loading is idempotent: modules import once)."""
    return load_registry(settings)


def get_tool_context(settings: SettingsDep) -> ToolContext:
    """The context every tool call gets."""
    return settings.tool_context()


RegistryDep = Annotated[Registry, Depends(get_registry)]
ToolContextDep = Annotated[ToolContext, Depends(get_tool_context)]
