"""Who is acting on the staff side: the roles, and the signed-in staff member a request carries."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class StaffRole(enum.StrEnum):
    """What a staff member may do in one company (the console enforces it on every route)."""

    OWNER = "owner"  # everything, including staff and settings
    BOOKKEEPER = "bookkeeper"  # the books, the queue, the reports
    COLLECTOR = "collector"  # the overdue accounts they own
    READ_ONLY = "read_only"  # sees, never acts


# Where the console's guard puts the signed-in StaffPrincipal in a request's ASGI scope; pages of
# other areas (collections, reports) read it from there and never look at cookies themselves.
SCOPE_KEY = "syncd.staff"


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    """A signed-in staff member: ``roles`` maps each company they serve to their role there."""

    staff_id: int
    email: str
    name: str
    roles: Mapping[str, StaffRole]

    def role_in(self, company_id: str) -> StaffRole | None:
        return self.roles.get(company_id)
