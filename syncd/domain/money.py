"""Money as Decimal plus an ISO currency; never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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
