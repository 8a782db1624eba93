"""Payment methods a customer keeps on file at Stripe, as syncd sees them (no card data)."""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


class MethodKind(enum.Enum):
    CARD = "card"
    US_BANK_ACCOUNT = "us_bank_account"


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """One saved payment method. ``brand``/``exp_*`` are for cards, ``bank_name`` for bank
    accounts; ``customer_id`` is the Stripe Customer it is attached to (None once detached)."""

    id: str
    kind: MethodKind
    last4: str
    customer_id: str | None
    created: datetime
    brand: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    bank_name: str | None = None
    is_default: bool = False

    @property
    def expires_on(self) -> date | None:
        return card_expires_on(self.exp_month, self.exp_year)


def card_expires_on(exp_month: int | None, exp_year: int | None) -> date | None:
    """The last day a card can be used (cards run to the end of their expiry month); None without
    an expiry (bank accounts)."""
    if exp_month is None or exp_year is None:
        return None
    return date(exp_year, exp_month, calendar.monthrange(exp_year, exp_month)[1])


@dataclass(frozen=True, slots=True)
class SetupRequest:
    """A setup-mode Checkout: the customer saves a card or bank account, nothing is charged.

    ``request_key`` is syncd's deterministic key for this request (also the Idempotency-Key stem);
    it and ``company``/``qbo_customer_id`` ride on the session's and SetupIntent's metadata so
    the completion event finds its way back.
    """

    company: str
    qbo_customer_id: str
    customer_id: str
    request_key: str
    success_url: str
    cancel_url: str
    payment_methods: tuple[str, ...] = ("card",)
    currency: str = "USD"
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MethodChange:
    """What a payment-method event says: ``method`` for payment_method.attached/detached (with
    ``customer_id`` the customer it was attached to, also after a detach), the SetupIntent /
    setup-mode Checkout Session that saved one (``setup_intent_id``, ``method_id``; ``mode``
    "setup" for the session), or a PaymentIntent that saved its method (``mode`` "payment")."""

    customer_id: str | None
    method: SavedMethod | None = None
    method_id: str | None = None
    setup_intent_id: str | None = None
    mode: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
