"""Money as Decimal plus an ISO currency; never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Stripe's minor unit is a thousandth in these; QuickBooks keeps every amount to the cent, so their
# sub-cent remainders are carried to a rounding account (see docs/bookkeeping.md).
THREE_DECIMAL: frozenset[str] = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
QBO_CENT = Decimal("0.01")


def to_qbo_cent(amount: Decimal) -> Decimal:
    """``amount`` as QuickBooks can hold it: to the cent, halves away from zero."""
    return amount.quantize(QBO_CENT, rounding=ROUND_HALF_UP)


def as_decimal(value: object) -> Decimal:
    """Parse a vendor amount (str, int or Decimal) exactly; floats are refused."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"refusing to treat {value!r} as money: pass str, int or Decimal")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)):
        return Decimal(value)
    raise TypeError(f"not an amount: {value!r}")


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in a currency (upper-case ISO 4217 code)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"not an ISO currency code: {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
