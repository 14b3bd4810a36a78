"""Who is calling: the roles an API key can have, and the principal a verified key stands for.

Keys themselves are kept by `app.store.keys.KeyStore`; the HTTP dependencies that check
them (`Authorization: Bearer …`, role checks) are in `app.api.deps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal, cast, get_args

RoleName = Literal["submitter", "reviewer", "admin"]
"""A role as the API and the key table spell it."""


class Role(IntEnum):
    """Each role can do everything the ones below it can."""

    submitter = 1
    reviewer = 2
    admin = 3


assert set(get_args(RoleName)) == set(Role.__members__)


@dataclass(frozen=True)
class Principal:
    """Who is calling."""

    key_id: str
    name: str
    role: Role

    @property
    def role_name(self) -> RoleName:
        """The role's name (`Role` members are exactly the `RoleName`s)."""
        return cast(RoleName, self.role.name)

    def sees_all_jobs(self) -> bool:
        """Reviewers and admins see every job; a submitter only the jobs its own key submitted."""
        return self.role >= Role.reviewer

    def may_see(self, submitter_key: str | None) -> bool:
        """Whether this caller may read, stream or fetch the files of a job submitted with `submitter_key`."""
        return self.sees_all_jobs() or (submitter_key is not None and submitter_key == self.key_id)
