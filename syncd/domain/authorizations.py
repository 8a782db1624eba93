"""Card authorisations (holds placed before a job): their states and what Stripe says of one."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class AuthorizationStatus(enum.Enum):
    """One authorisation as syncd keeps it.

    PLACING (the Stripe effect is queued) -> HELD (the card approved the amount) -> CAPTURING (an
    invoice was matched: the capture effect is queued) -> CAPTURED; or HELD -> RELEASING ->
    RELEASED (unused by the release day, or released by staff); DECLINED when the card refused the
    authorisation; EXPIRED when Stripe cancelled it first (the network's limit passed)."""

    PLACING = "placing"
    HELD = "held"
    CAPTURING = "capturing"
    CAPTURED = "captured"
    RELEASING = "releasing"
    RELEASED = "released"
    DECLINED = "declined"
    EXPIRED = "expired"

    @property
    def open(self) -> bool:
        """Still holding money on the card (or about to)."""
        return self in (AuthorizationStatus.PLACING, AuthorizationStatus.HELD)


@dataclass(frozen=True, slots=True)
class CardAuthorization:
    """A manual-capture PaymentIntent as the connector reports it. ``status`` is Stripe's
    (requires_capture, succeeded, canceled, ...); amounts in major units; ``capture_before`` is
    when the card network's hold ends (None when Stripe does not say)."""

    id: str
    status: str
    amount: Decimal
    amount_capturable: Decimal
    amount_received: Decimal
    currency: str
    metadata: Mapping[str, str]
    capture_before: datetime | None
    cancellation_reason: str | None = None

    @property
    def held(self) -> bool:
        return self.status == "requires_capture"

    @property
    def captured(self) -> bool:
        return self.status == "succeeded"

    @property
    def canceled(self) -> bool:
        return self.status == "canceled"
