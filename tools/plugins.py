"""Find tools: the `jimoku.tools` entry-point group (built-ins included) and a folder.

A package adds tools by declaring, in its own pyproject.toml::

    [project.entry-points."jimoku.tools"]
    my_tool = "my_package.my_module"

Loading the entry point imports the module, whose `@tool` functions register
themselves. jimoku's own OCR, detector and ASR are listed in code (`BUILTIN_TOOLS`) and
loaded through the very same function, so a plugin is loaded, listed and planned exactly
like a built-in. A plugin that fails to import does not take the service down: its error
is kept in `REGISTRY.load_errors` and shown by `jimoku tools list` and `GET /v1/tools`.

`JIMOKU_ENTRY_POINTS=0` skips the entry-point group: the test suite sets it, so plugins
that happen to be installed on a machine never change what the tests see.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import sys
from pathlib import Path

from tools.registry import REGISTRY, Registry

ENTRY_POINT_GROUP = "jimoku.tools"
BUILTIN_TOOLS = {"ocr": "tools.ocr", "detect": "tools.detect", "asr": "tools.asr"}
"""jimoku's own tools: name → module, loaded first, each through the same path as a plugin."""
log = logging.getLogger(__name__)


def load_plugins(
    *,
    folder: Path | None = None,
    allow: set[str] | None = None,
    entry_points: bool = True,
    registry: Registry = REGISTRY,
) -> Registry:
    """Import the built-in tools, every allowed entry point of `jimoku.tools`, then every
    `*.py` in `folder`.

    Args:
        folder: A plugins folder (`JIMOKU_PLUGINS_DIR`); each file in it is one module.
        allow: Tool module names (built-in names, entry-point names, folder file stems) to
            load; None loads all.
        entry_points: Whether to look at installed packages' entry points at all.
        registry: Where load errors are recorded (tools register in `REGISTRY`).
    """
    importlib.invalidate_caches()
    for name, module in BUILTIN_TOOLS.items():
        if allow is None or name in allow:
            try:
                importlib.import_module(module)
            except Exception as exc:  # e.g. a missing optional engine: the others still load
                _record(registry, f"built-in tool {name} ({module})", exc)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points else ():
        if ep.name in BUILTIN_TOOLS or (allow is not None and ep.name not in allow):
            continue
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not stop the others
            _record(registry, f"entry point {ep.name} ({ep.value})", exc)
    if folder is not None:
        for path in sorted(Path(folder).glob("*.py")):
            if path.name.startswith("_") or (allow is not None and path.stem not in allow):
                continue
            try:
                _import_file(path)
            except Exception as exc:
                _record(registry, f"plugin file {path}", exc)
    return registry


def _import_file(path: Path) -> None:
    name = f"jimoku_plugins.{path.stem}"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _record(registry: Registry, what: str, exc: Exception) -> None:
    message = f"{type(exc).__name__}: {exc}"
    registry.load_errors[what] = message
    log.error("could not load %s: %s", what, message)
