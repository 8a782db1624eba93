"""Money as Decimal plus an ISO currency; never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# The one currency-exponent table. The minor unit is the cent except in these, as Stripe lists
# them (https://docs.stripe.com/currencies#zero-decimal); each agrees with CLDR's digits as Babel
# ships them, which tests/syncd/domain/test_currency_table.py checks.
ZERO_DECIMAL: frozenset[str] = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)
# A thousandth in these; QuickBooks keeps every amount to the cent, so their sub-cent remainders
# are carried to a rounding account (see docs/bookkeeping.md). Stripe's card partners need the
# last digit to be 0.
THREE_DECIMAL: frozenset[str] = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# Where Stripe keeps two decimals though CLDR shows none. ISK: since 2023 charges must be whole
# krónur (a multiple of 100 minor units), so it is also shown without decimals. HUF: Stripe
# charges to the fillér (only payouts are whole forints), so amounts keep their two decimals.
TWO_DECIMAL_AT_STRIPE: frozenset[str] = frozenset(["HUF", "ISK"])
WHOLE_UNITS_ONLY: frozenset[str] = frozenset(["ISK"])
QBO_CENT = Decimal("0.01")


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point in ``currency``'s minor unit (upper or lower case code)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def display_exponent(currency: str) -> int:
    """Digits an amount in ``currency`` is shown with: those it can be charged in."""
    return 0 if currency.upper() in WHOLE_UNITS_ONLY else minor_exponent(currency)


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
