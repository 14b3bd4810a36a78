"""The two ways a request about a job is refused; each message says what to do instead."""

from __future__ import annotations


class JobRejected(ValueError):
    """The request cannot become a job, or the decision is malformed; nothing was stored (HTTP 400/422)."""


class Conflict(Exception):
    """The action lost a race or came too late (HTTP 409); the message says why."""
