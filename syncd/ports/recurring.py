"""What the pages of recurring services need: the account page's items, and the trial reminder's
one-click page with the backend behind it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from syncd.ports.portal import Branding


class TrialChoice(enum.StrEnum):
    """The two links of a trial reminder."""

    CONTINUE = "continue"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class RecurringItem:
    """One recurring service of the customer as the account page shows it. ``state`` is active,
    paused, cancelled, pausing / cancelling (asked, QuickBooks not told yet) or ended; ``upcoming``
    the next invoice dates (empty once nothing more is scheduled). ``name`` comes from QBO."""

    template_id: str
    name: str
    amount: Decimal
    currency: str
    interval: str
    every: int
    upcoming: tuple[date, ...]
    ends_on: date | None
    trial: bool
    state: str
    can_pause: bool
    can_cancel: bool


@dataclass(frozen=True, slots=True)
class TrialView:
    """The trial reminder's page; ``state`` is open, continued, cancelled or expired."""

    branding: Branding
    customer_name: str
    service_name: str
    amount: Decimal
    currency: str
    first_date: date
    state: str


class TrialBackend(Protocol):
    def view(self, link_token: str) -> TrialView | None:
        """None for an unknown or malformed token (one 404 for all)."""

    def choose(self, link_token: str, choice: TrialChoice) -> TrialView | None:
        """Record the choice once (a second press answers the first choice); cancel makes the
        template inactive in QuickBooks through the effect ledger. None for an unknown token;
        PermanentError (for the customer) once the link expired."""
