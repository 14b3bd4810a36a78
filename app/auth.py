"""Who is calling: the roles an API key can have, and the principal a verified key stands for.

Keys themselves are kept by `app.store.keys.KeyStore`; the HTTP dependencies that check
them (`Authorization: Bearer …`, role checks) are in `app.api.deps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """Each role can do everything the ones below it can."""

    submitter = 1
    reviewer = 2
    admin = 3


@dataclass(frozen=True)
class Principal:
    """Who is calling."""

    key_id: str
    name: str
    role: Role
