"""A QuickBooks customer as syncd sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer of the business; ``qbo_id`` is QuickBooks' Id, unique per company."""

    qbo_id: str
    display_name: str
    email: str | None
    phone: str | None
    currency: str
    active: bool
    updated_at: datetime
    deleted: bool = False
    mobile: str | None = None  # QBO's Mobile field, as typed there (texts need consent first)
