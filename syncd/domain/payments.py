"""The life of one attempt to pay (a Checkout Session or an off-session charge)."""

from __future__ import annotations

import enum


class PaymentStatus(enum.Enum):
    """Moves forward only: CREATING -> OPEN -> PROCESSING -> SUCCEEDED | FAILED, or OPEN -> EXPIRED.

    A late or duplicated webhook can never move a payment backwards (see ``advance``).
    """

    CREATING = "creating"
    OPEN = "open"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    RETURNED = "returned"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def advance(self, to: PaymentStatus) -> PaymentStatus:
        """The status after an observation of ``to``: later states win, terminal ones stay."""
        if self in (PaymentStatus.RETURNED,):
            return self
        if self is PaymentStatus.SUCCEEDED:
            return to if to is PaymentStatus.RETURNED else self
        if self is PaymentStatus.FAILED:
            return self
        if self is PaymentStatus.EXPIRED and to in (PaymentStatus.OPEN, PaymentStatus.CREATING):
            return self
        return to if to.rank >= self.rank else self


_RANK = {
    PaymentStatus.CREATING: 0,
    PaymentStatus.OPEN: 1,
    PaymentStatus.EXPIRED: 2,
    PaymentStatus.PROCESSING: 3,
    PaymentStatus.SUCCEEDED: 4,
    PaymentStatus.FAILED: 4,
    PaymentStatus.RETURNED: 5,
}
