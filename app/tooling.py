"""Load the tool registry the way this process's settings say (built-ins + plugins)."""

from __future__ import annotations

from app.settings import Settings
from tools.plugins import load_plugins
from tools.registry import Registry


def load_registry(settings: Settings) -> Registry:
    """Import the allowed entry-point tools and the plugins folder; safe to call again."""
    return load_plugins(folder=settings.plugins_dir, allow=settings.plugin_allowlist(),
                        entry_points=settings.entry_points)
