"""The two ways a request about a job is refused; each message says what to do instead.

Each carries a stable machine `code` next to its English message (the API answers
`{"detail": message, "code": code}`; the web page translates by the code). The table of
codes is in app/api/errors.py.
"""

from __future__ import annotations


class JobRejected(ValueError):
    """The request cannot become a job, or the decision is malformed; nothing was stored (HTTP 400/422)."""

    def __init__(self, *args: object, code: str = "bad_request") -> None:
        super().__init__(*args)
        self.code = code


class Conflict(Exception):
    """The action lost a race or came too late (HTTP 409); the message says why."""

    def __init__(self, *args: object, code: str = "conflict") -> None:
        super().__init__(*args)
        self.code = code
