"""run_tool: errors, timeouts and bad arguments come back as data, never as exceptions."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tools.context import ToolContext
from tools.errors import ToolInputError
from tools.registry import Registry, ToolResult, tool
from tools.runner import run_tool

release = threading.Event()


@pytest.fixture(scope="module")
def reg() -> Registry:
    reg = Registry()

    @tool(accepts=["image"], registry=reg, timeout=0.5)
    def hang(file: Path) -> ToolResult:
        """Wait until released (a tool that hangs).

        Args:
            file: Ignored.
        """
        release.wait(30)
        return ToolResult(summary="released")

    @tool(accepts=["image"], registry=reg)
    def boom(file: Path) -> ToolResult:
        """Always crash.

        Args:
            file: Ignored.
        """
        raise RuntimeError("gear stripped")

    @tool(accepts=["image"], registry=reg)
    def picky(file: Path, size: int) -> ToolResult:
        """Refuse small sizes.

        Args:
            file: Ignored.
            size: Must be at least 10.
        """
        if size < 10:
            raise ToolInputError("size must be at least 10")
        return ToolResult(summary=str(size), confidence=0.5)

    return reg


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    p = tmp_path / "p.png"
    p.write_bytes(b"not used")
    return p


def test_crash_becomes_data(reg: Registry, photo: Path, tool_ctx: ToolContext) -> None:
    run = run_tool(reg.get("boom"), photo, {}, tool_ctx)
    assert (run.ok, run.error_kind) == (False, "crash")
    assert "RuntimeError: gear stripped" in run.error


def test_input_error_and_bad_arguments(reg: Registry, photo: Path, tool_ctx: ToolContext) -> None:
    run = run_tool(reg.get("picky"), photo, {"size": 3}, tool_ctx)
    assert (run.ok, run.error_kind, run.error) == (False, "input", "size must be at least 10")
    run = run_tool(reg.get("picky"), photo, {"size": "big"}, tool_ctx)
    assert run.error_kind == "input" and "size" in run.error
    run = run_tool(reg.get("picky"), photo, {"size": 12, "colour": "red"}, tool_ctx)
    assert run.error_kind == "input" and "colour" in run.error
    run = run_tool(reg.get("picky"), photo, {"size": 12}, tool_ctx)
    assert run.ok and run.summary == "12" and run.confidence == 0.5


def test_hang_times_out_and_holds_its_slot(reg: Registry, photo: Path, tool_ctx: ToolContext) -> None:
    release.clear()
    started = time.perf_counter()
    run = run_tool(reg.get("hang"), photo, {}, tool_ctx)
    assert (run.ok, run.error_kind) == (False, "timeout")
    assert "did not finish within 0.5 s" in run.error
    assert time.perf_counter() - started < 5
    # The abandoned call still runs, so the one slot is taken: the next call is refused.
    busy = run_tool(reg.get("hang"), photo, {}, tool_ctx)
    assert busy.error_kind == "busy"
    release.set()
    time.sleep(0.2)
    run = run_tool(reg.get("hang"), photo, {}, tool_ctx)
    assert run.ok and run.summary == "released"
