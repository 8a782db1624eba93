"""The one place converting Decimal major units to and from Stripe's integer minor units."""

from __future__ import annotations

from decimal import Decimal

from syncd.domain.money import THREE_DECIMAL, WHOLE_UNITS_ONLY, ZERO_DECIMAL, minor_exponent
from syncd.errors import ValidationError

__all__ = [
    "THREE_DECIMAL",
    "ZERO_DECIMAL",
    "domain_currency",
    "exponent",
    "from_minor",
    "to_minor",
    "wire_currency",
]


def _code(currency: str) -> str:
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError(f"not an ISO currency code: {currency!r}")
    return code


def exponent(currency: str) -> int:
    """Digits after the decimal point in Stripe's minor unit for ``currency``."""
    return minor_exponent(_code(currency))


def _granularity(code: str) -> int:
    """The smallest chargeable step, in minor units."""
    if code in THREE_DECIMAL:
        return 10
    if code in WHOLE_UNITS_ONLY:
        return 100
    return 1


def to_minor(amount: Decimal, currency: str) -> int:
    """``amount`` (major units) as Stripe's integer minor units; refuses anything inexact.

    Nothing is ever rounded: 10.005 USD or 5.125 KWD is a bug upstream, not a cent to lose.
    """
    if not isinstance(amount, Decimal) or isinstance(amount, bool):
        raise TypeError(f"amounts must be Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValidationError(f"not a finite amount: {amount}")
    code = _code(currency)
    scaled = amount.scaleb(exponent(code))
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"{amount} {code} has more decimals than Stripe's minor unit allows")
    minor = int(scaled)
    step = _granularity(code)
    if minor % step:
        raise ValidationError(f"{amount} {code} must be a multiple of {step} minor units for Stripe")
    return minor


def from_minor(minor: int, currency: str) -> Decimal:
    """Stripe's integer minor units as a Decimal in major units, with the currency's decimals."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"minor units must be int, not {type(minor).__name__}")
    digits = exponent(currency)
    return Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def wire_currency(currency: str) -> str:
    """Stripe wants lower-case ISO codes."""
    return _code(currency).lower()


def domain_currency(currency: str) -> str:
    """syncd keeps upper-case ISO codes."""
    return _code(currency)
