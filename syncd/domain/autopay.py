"""Autopay: the states of one automatic charge attempt, and what the charge primitive is asked."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class ChargeStatus(enum.Enum):
    """One attempt to charge one invoice balance, as syncd plans and makes it.

    SCHEDULED (notice sent, waiting for its day) -> CHARGING (the Stripe effect is queued) ->
    SUCCEEDED | PROCESSING (bank debit, settled by the books) | DECLINED | NEEDS_ACTION (the payer
    must confirm on-session). Never charged: SKIPPED (the customer said "not this one"), SUPERSEDED
    (the invoice changed beyond the tolerance: a new notice replaced it), CANCELLED (paid, voided or
    autopay turned off before the day), OVER_CAP (the link was emailed instead)."""

    SCHEDULED = "scheduled"
    CHARGING = "charging"
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    DECLINED = "declined"
    NEEDS_ACTION = "needs_action"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"
    OVER_CAP = "over_cap"

    @property
    def pending(self) -> bool:
        """Still to be charged: the planner may replace it, a link may skip it."""
        return self in (ChargeStatus.SCHEDULED, ChargeStatus.CHARGING)


class ChargeOutcome(enum.Enum):
    """What one automatic charge email tells the customer."""

    RETRY = "retry"  # a soft decline; another attempt is planned
    FAILED = "failed"  # a soft decline with no retry left: pay from the link
    HARD = "hard"  # the method will not work again: add another
    ACTION = "action"  # the bank wants the payer present: finish on the invoice page
    OVER_CAP = "over_cap"  # more than the customer's cap: pay from the link


@dataclass(frozen=True, slots=True)
class Mandate:
    """The customer's online acceptance of debits from their bank account (from their autopay
    authorisation): what Stripe needs as ``mandate_data`` to debit a US bank account off-session."""

    accepted_at: datetime
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class SavedCharge:
    """One off-session charge of a saved method: what autopay (and later installment plans and
    holds) asks the charge primitive. ``payment_key`` names the syncd payment the books find by
    the PaymentIntent's metadata; ``idempotency_key`` is one per attempt."""

    company: str
    customer_id: str
    invoice_ids: tuple[str, ...]
    stripe_customer_id: str
    payment_method_id: str
    amount: Decimal
    currency: str
    payment_key: str
    idempotency_key: str
    mandate: Mandate | None = None  # bank debits only
    # Nothing was ever sent under this key (the caller's record says so, committed before any
    # send): no earlier PaymentIntent can exist, so the connector need not look one up.
    first_send: bool = False
