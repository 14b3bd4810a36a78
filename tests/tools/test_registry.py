"""The @tool decorator: schema from signature + docstring, strict refusals at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from tools.context import ToolContext
from tools.errors import ToolDefinitionError, UnknownToolError
from tools.registry import FileKind, Produces, Registry, TextResult, ToolResult, tool
from tools.runner import run_tool


@pytest.fixture
def reg() -> Registry:
    return Registry()


def test_schema_comes_from_signature_and_docstring(reg: Registry) -> None:
    @tool(accepts=["image"], registry=reg, timeout=5, resource="gpu", version="3")
    def gauge(file: Path, ctx: ToolContext, unit: Literal["bar", "psi"] = "bar", needles: int = 1) -> ToolResult:
        """Read the pressure shown by an analogue gauge.

        Args:
            file: Photo of the gauge.
            unit: Unit to report the pressure in.
            needles: How many needles the dial has.
        """
        return ToolResult(summary=f"{unit} {needles}")

    spec = reg.get("gauge")
    card = spec.card()
    assert card["description"] == "Read the pressure shown by an analogue gauge."
    assert card["accepts"] == ["image"]
    assert card["file"] == "Photo of the gauge."
    props = card["arguments"]["properties"]
    assert props["unit"]["enum"] == ["bar", "psi"]
    assert props["unit"]["description"] == "Unit to report the pressure in."
    assert props["needles"]["type"] == "integer"
    # The file and the injected context are filled in by jimoku, never planned.
    assert set(props) == {"unit", "needles"}
    assert (spec.timeout, spec.resource, spec.version) == (5.0, "gpu", "3")
    assert spec.validate_args({"unit": "psi"}) == {"unit": "psi", "needles": 1}


def test_missing_docstring_is_refused_with_a_fix(reg: Registry) -> None:
    with pytest.raises(ToolDefinitionError, match=r"no docstring. Add one"):

        @tool(accepts=["image"], registry=reg)
        def nodoc(file: Path) -> str:
            return ""


def test_undocumented_argument_is_refused(reg: Registry) -> None:
    with pytest.raises(ToolDefinitionError, match=r"argument 'depth' is not documented.*'depth: <what it means>'"):

        @tool(accepts=["image"], registry=reg)
        def partial(file: Path, depth: int = 2) -> str:
            """Do a thing.

            Args:
                file: The photo.
            """
            return ""


def test_missing_return_type_is_refused(reg: Registry) -> None:
    with pytest.raises(ToolDefinitionError, match=r"no return type. Annotate it"):

        @tool(accepts=["audio"], registry=reg)
        def noreturn(file: Path):  # type: ignore[no-untyped-def]
            """Do a thing.

            Args:
                file: The memo.
            """


def test_duplicate_name_is_refused(reg: Registry) -> None:
    @tool(accepts=["image"], registry=reg, name="dup")
    def first(file: Path) -> str:
        """One.

        Args:
            file: The photo.
        """
        return "1"

    with pytest.raises(ToolDefinitionError, match=r"already registered by .*first.*pass name="):

        @tool(accepts=["image"], registry=reg, name="dup")
        def second(file: Path) -> str:
            """Two.

            Args:
                file: The photo.
            """
            return "2"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"accepts": ["video"]}, "unknown file kind 'video'"),
        ({"accepts": []}, "must name at least one file kind"),
        ({"accepts": ["image"], "timeout": 0}, "timeout must be > 0"),
    ],
)
def test_bad_options_are_refused(reg: Registry, kwargs: dict, message: str) -> None:
    with pytest.raises(ToolDefinitionError, match=message):

        @tool(registry=reg, **kwargs)
        def opt(file: Path) -> str:
            """Do.

            Args:
                file: The photo.
            """
            return ""


def test_file_parameter_is_required(reg: Registry) -> None:
    with pytest.raises(ToolDefinitionError, match="parameter named 'file: Path'"):

        @tool(accepts=["image"], registry=reg)
        def nofile(path: Path) -> str:
            """Do.

            Args:
                path: The photo.
            """
            return ""


def test_unknown_tool_lists_the_known_ones(reg: Registry) -> None:
    @tool(accepts=["image"], registry=reg)
    def known(file: Path) -> str:
        """Known.

        Args:
            file: The photo.
        """
        return ""

    with pytest.raises(UnknownToolError, match="registered tools: known"):
        reg.get("unknown")


def test_for_kind_and_string_results(reg: Registry, tmp_path: Path, tool_ctx: ToolContext) -> None:
    @tool(accepts=["audio", "document"], registry=reg)
    def echo(file: Path, word: str) -> str:
        """Echo a word.

        Args:
            file: Any memo or document.
            word: The word to say back.
        """
        return f"{word} from {file.name}"

    assert [s.name for s in reg.for_kind(FileKind.AUDIO)] == ["echo"]
    assert reg.for_kind(FileKind.IMAGE) == []
    target = tmp_path / "memo.wav"
    target.write_bytes(b"x")
    run = run_tool(reg.get("echo"), target, {"word": "hello"}, tool_ctx)
    assert run.ok and run.summary == "hello from memo.wav"
    assert run.result == TextResult(summary="hello from memo.wav").model_dump()


def test_dynamic_description_hook(reg: Registry, tool_ctx: ToolContext) -> None:
    @tool(accepts=["image"], registry=reg, describe=lambda ctx: f"Finds classes of {ctx.model_dir.name}")
    def finder(file: Path) -> str:
        """Finds things.

        Args:
            file: The photo.
        """
        return ""

    spec = reg.get("finder")
    assert spec.card()["description"] == "Finds things."
    assert spec.card(tool_ctx)["description"] == f"Finds classes of {tool_ctx.model_dir.name}"


def test_a_tool_declares_what_it_produces_and_its_warm_up(reg: Registry) -> None:
    loaded: list[str] = []

    def load(ctx: ToolContext) -> None:
        loaded.append("model")

    @tool(accepts=["image"], produces="text", warm_up=load, registry=reg, name="reader")
    def reader(file: Path) -> str:
        """Read printed text.

        Args:
            file: The photo.
        """
        return "text"

    spec = reg.get("reader")
    assert spec.produces is Produces.TEXT and spec.card()["produces"] == "text"
    assert [s.name for s in reg.producing(Produces.TEXT, FileKind.IMAGE)] == ["reader"]
    assert reg.producing(Produces.TEXT, FileKind.AUDIO) == []
    assert spec.warm_up is not None
    spec.warm_up(ToolContext(model_dir=Path(".")))
    assert loaded == ["model"]


def test_unknown_capability_is_refused(reg: Registry) -> None:
    with pytest.raises(ToolDefinitionError, match="unknown produces='pixels'"):

        @tool(accepts=["image"], produces="pixels", registry=reg)
        def painter(file: Path) -> str:
            """Paint.

            Args:
                file: The photo.
            """
            return ""
