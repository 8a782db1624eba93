"""Fee arithmetic in integer minor units, with the currency exponents of ``syncd.domain.money``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from syncd.domain.money import minor_exponent


def exponent(currency: str) -> int:
    """Digits in Stripe's minor unit for ``currency`` (the one table, in the domain)."""
    return minor_exponent(currency)


def percent_of(amount_minor: int, percent: Decimal) -> int:
    """``percent``% of an amount, rounded half-up to the minor unit."""
    return int((Decimal(amount_minor) * percent / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def major_to_minor(amount: Decimal, currency: str) -> int:
    return int((amount * (Decimal(10) ** exponent(currency))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_amount(amount_minor: int, currency: str) -> str:
    """``12.34 USD`` style display for the hosted page."""
    exp = exponent(currency)
    value = Decimal(amount_minor).scaleb(-exp)
    return f"{value:,.{exp}f} {currency.upper()}"
