"""Stripe's currency exponents and fee arithmetic, all in integer minor units."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def exponent(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


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
