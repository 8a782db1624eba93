"""An entry syncd wrote that someone changed in QuickBooks, and where its review stands."""

from __future__ import annotations

import enum


class EntryChange(enum.Enum):
    """What happened to a Payment syncd wrote, seen at a pull."""

    DELETED = "deleted"
    VOIDED = "voided"
    CHANGED = "changed"


class ReviewStatus(enum.Enum):
    """OPEN holds its invoices back from payment; REBOOKED and RELEASED end the review."""

    OPEN = "open"
    REBOOKED = "rebooked"
    RELEASED = "released"
