"""What the account page and the staff console show of a card authorisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class HoldItem:
    """One authorisation: ``state`` is an AuthorizationStatus value; ``until`` is when an unused
    hold is released; ``captured`` and ``invoice_number`` once an invoice was paid from it."""

    id: str
    amount: Decimal
    currency: str
    state: str
    placed_at: datetime
    until: datetime
    note: str | None
    captured: Decimal | None
    invoice_number: str | None
    ended_at: datetime | None
