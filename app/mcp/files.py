"""The `file` argument of jimoku's MCP tools, in the form each transport can carry.

MCP has no multipart upload: over stdio the server runs on the caller's machine and reads a local
path; over HTTP the caller sends the file's bytes as base64 with its name.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol


class ArgumentError(ValueError):
    """A tool argument the caller must fix; the message says how."""


@dataclass(frozen=True)
class Upload:
    """A file to send to the REST API: its name and either a local path or its bytes."""

    name: str
    path: Path | None = None
    data: bytes | None = None


class FileArgument(Protocol):
    """How a transport's tools take a file."""

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON schema of one file argument."""
        ...

    def read(self, value: Any, where: str) -> Upload:
        """The upload `value` stands for; `ArgumentError` naming `where` when it is not one."""
        ...


class LocalPath:
    """stdio: a path on the machine the MCP server (and its caller) runs on."""

    schema: ClassVar[dict[str, Any]] = {
        "type": "string",
        "description": "Path of the file on this machine; the MCP server reads it and uploads it to jimoku.",
    }

    def read(self, value: Any, where: str) -> Upload:
        if not isinstance(value, str) or not value.strip():
            raise ArgumentError(f"{where} must be the path of a file on this machine")
        path = Path(value).expanduser()
        if not path.is_file():
            raise ArgumentError(f"{where}: no file at {value!r} (the path is read on the machine running `jimoku mcp`)")
        return Upload(name=path.name, path=path)


class Base64Content:
    """HTTP: the file's bytes as base64, and its name (kept for messages and the reviewer page)."""

    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "description": "The file itself: its name and its bytes as standard base64.",
        "properties": {
            "name": {"type": "string", "description": "The file's name, e.g. nameplate.png."},
            "content_base64": {"type": "string", "contentEncoding": "base64", "description": "The bytes, base64."},
        },
        "required": ["name", "content_base64"],
        "additionalProperties": False,
    }

    def read(self, value: Any, where: str) -> Upload:
        if not isinstance(value, dict) or not isinstance(value.get("content_base64"), str):
            raise ArgumentError(f'{where} must be an object {{"name": "...", "content_base64": "..."}}')
        try:
            data = base64.b64decode(value["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ArgumentError(f"{where}.content_base64 is not valid base64") from None
        return Upload(name=str(value.get("name") or "upload"), data=data)
