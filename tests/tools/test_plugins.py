"""Plugins: a real `pip install` of a package made here, and a plugins folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "jimoku-gauge-plugin"
version = "0.0.1"

[project.entry-points."jimoku.tools"]
gauge = "jimoku_gauge.tool"

[tool.setuptools]
packages = ["jimoku_gauge"]
"""

PLUGIN_TOOL = '''
from pathlib import Path

from jimoku import ToolResult, tool


class GaugeResult(ToolResult):
    bar: float


@tool(accepts=["image"], timeout=10)
def gauge_reading(file: Path, scale: float = 1.0) -> GaugeResult:
    """Read the pressure in bar shown by an analogue pressure gauge.

    Args:
        file: Photo of the gauge face.
        scale: Multiplier applied to the reading.
    """
    bar = len(file.read_bytes()) * scale
    return GaugeResult(bar=bar, summary=f"Gauge reads {bar} bar", confidence=0.9)
'''


def _jimoku(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the plugin package and pip-install it into its own target folder."""
    root = tmp_path_factory.mktemp("plugin")
    src = root / "src"
    (src / "jimoku_gauge").mkdir(parents=True)
    (src / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (src / "jimoku_gauge" / "__init__.py").write_text("")
    (src / "jimoku_gauge" / "tool.py").write_text(PLUGIN_TOOL)
    target = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q",
         "--disable-pip-version-check", "--target", str(target), str(src)],
        check=True, timeout=300,
    )
    return target


def _env(extra_path: Path | None = None, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIMOKU_PLUGIN")}
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH", "")]))
    env.update(overrides)
    return env


def test_pip_installed_plugin_is_listed_and_runs(installed_plugin: Path, tmp_path: Path) -> None:
    listed = _jimoku("tools", "list", "--json", env=_env(installed_plugin, JIMOKU_ENTRY_POINTS="1"))
    assert listed.returncode == 0, listed.stderr
    cards = {c["name"]: c for c in json.loads(listed.stdout)["tools"]}
    # Built-ins arrive by the very same loading path.
    assert {"gauge_reading", "ocr", "detect", "asr"} <= set(cards)
    assert cards["gauge_reading"]["description"] == "Read the pressure in bar shown by an analogue pressure gauge."
    assert cards["gauge_reading"]["arguments"]["properties"]["scale"]["type"] == "number"

    photo = tmp_path / "gauge.png"
    photo.write_bytes(b"x" * 42)
    ran = _jimoku("tools", "run", "gauge_reading", str(photo), "--arg", "scale=0.5", "--json",
                  env=_env(installed_plugin, JIMOKU_ENTRY_POINTS="1"))
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["ok"] is True and out["result"]["bar"] == 21.0
    assert out["summary"] == "Gauge reads 21.0 bar"


def test_allowlist_keeps_plugins_out(installed_plugin: Path) -> None:
    listed = _jimoku("tools", "list", "--json",
                     env=_env(installed_plugin, JIMOKU_PLUGINS="ocr", JIMOKU_ENTRY_POINTS="1"))
    names = [c["name"] for c in json.loads(listed.stdout)["tools"]]
    assert names == ["ocr"]


def test_installed_plugins_stay_out_when_entry_points_are_off(installed_plugin: Path) -> None:
    """The guard the test suite runs under: an installed plugin is not loaded."""
    listed = _jimoku("tools", "list", "--json", env=_env(installed_plugin, JIMOKU_ENTRY_POINTS="0"))
    names = [c["name"] for c in json.loads(listed.stdout)["tools"]]
    assert "gauge_reading" not in names and {"ocr", "detect", "asr"} <= set(names)


def test_plugins_folder_and_broken_plugin(tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "torque.py").write_text(PLUGIN_TOOL.replace("gauge_reading", "torque_reading"))
    (folder / "broken.py").write_text(textwrap.dedent('''
        from pathlib import Path
        from tools import tool

        @tool(accepts=["image"])
        def broken(file: Path) -> str:
            return "no docstring"
    '''))
    listed = _jimoku("tools", "list", "--json", env=_env(JIMOKU_PLUGINS_DIR=str(folder)))
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert "torque_reading" in [c["name"] for c in doc["tools"]]
    (_what, error), = [(k, v) for k, v in doc["load_errors"].items() if "broken.py" in k]
    assert "has no docstring. Add one" in error
    # The broken plugin is reported, and the service's tools still load.
    assert "ocr" in [c["name"] for c in doc["tools"]]
