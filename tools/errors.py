"""Errors a tool author or a caller sees; each message says what to do about it."""


class ToolDefinitionError(TypeError):
    """A function cannot be registered as a tool; the message says how to fix it."""


class ToolInputError(ValueError):
    """The file or the arguments given to a tool cannot be processed (a 4xx, not a crash).

    Raise it from a tool with a reason a person can act on: "the image is 1×1 pixels;
    send a photo of at least 32×32", not "cannot identify image file".
    """


class ToolTimeoutError(TimeoutError):
    """A tool call ran past its timeout and was abandoned."""


class UnknownToolError(KeyError):
    """No tool is registered under this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return f"no tool named {self.name!r}; registered tools: {', '.join(self.known) or 'none'}"


class ModelNotAvailableError(RuntimeError):
    """An embedded model file is missing or fails its sha256 check.

    The message names the package to install (or the setting to change), because nothing
    is ever downloaded at run time.
    """
