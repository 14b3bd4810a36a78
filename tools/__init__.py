"""Perception tools and the registry they go through.

This package imports nothing from `graphs` or `app`.
"""

from tools.context import ToolContext
from tools.errors import ToolDefinitionError, ToolInputError, ToolTimeoutError, UnknownToolError
from tools.registry import REGISTRY, FileKind, Produces, ToolResult, ToolSpec, tool

__all__ = [
    "REGISTRY",
    "FileKind",
    "Produces",
    "ToolContext",
    "ToolDefinitionError",
    "ToolInputError",
    "ToolResult",
    "ToolSpec",
    "ToolTimeoutError",
    "UnknownToolError",
    "tool",
]
