"""Exchange rates for QBO entries of charges Stripe converted into another currency."""

from __future__ import annotations

from decimal import Decimal

PRECISION = Decimal("1e-10")


def credited_rate(amount: Decimal, credited: Decimal) -> Decimal | None:
    """QBO's rate (credited units per unit of ``amount``'s currency), from what Stripe actually
    moved. Stripe's published ``exchange_rate`` is rounded, and QBO computes the home amount as
    TotalAmt x ExchangeRate: deriving the rate from both amounts lands QBO on Stripe's cent."""
    if amount == 0:
        return None
    return (abs(credited) / abs(amount)).quantize(PRECISION)
