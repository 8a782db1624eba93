"""How amounts, dates and brand colours are shown to people: the Jinja filters and theme values
shared by the portal's pages and the emails."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import jinja2

# ISO 4217 minor units that differ from two; display follows ISO (Stripe's own quirks stay in
# the Stripe connector).
_ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
_THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])
_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "INR": "₹",
}
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

DEFAULT_PRIMARY = "#1f4e79"
DEFAULT_ACCENT = "#2e7d32"


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point a currency is shown with."""
    code = currency.upper()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def format_amount(amount: Decimal, currency: str) -> str:
    """The bare number, grouped, with the currency's decimals: ``1,234.50``; exact, never float."""
    exp = currency_exponent(currency)
    quantum = Decimal(1).scaleb(-exp)
    value = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{value:,.{exp}f}"


def format_money(amount: Decimal, currency: str, *, keep_precision: bool = False) -> str:
    """``$1,234.50``, ``¥1,235``, ``KWD\u00a01.250``: symbol where unambiguous, else the ISO code.

    ``keep_precision`` shows extra digits instead of rounding them (unit prices such as 0.125).
    """
    if isinstance(amount, int) and not isinstance(amount, bool):
        amount = Decimal(amount)
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal (or int), got {type(amount).__name__}")
    code = currency.upper()
    exponent = amount.as_tuple().exponent
    if keep_precision and isinstance(exponent, int) and -exponent > currency_exponent(code):
        number = f"{abs(amount):,f}"
    else:
        number = format_amount(abs(amount), code)
    symbol = _SYMBOLS.get(code)
    text = f"{symbol}{number}" if symbol else f"{code}\u00a0{number}"
    return f"-{text}" if amount < 0 else text


def plain_amount(amount: Decimal, currency: str) -> str:
    """The amount as a payer would type it back into a form: ``1234.50`` (no grouping)."""
    exp = currency_exponent(currency)
    value = amount.quantize(Decimal(1).scaleb(-exp), rounding=ROUND_HALF_UP)
    return f"{value:.{exp}f}"


def format_quantity(value: Decimal) -> str:
    """``2``, ``1.5``: a quantity without trailing zeros or exponent notation."""
    return f"{value.normalize():f}"


def unit_price(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency, keep_precision=True)


def format_date(value: date | datetime | None) -> str:
    """``5 March 2026``: unambiguous in every locale (no 03/05 confusion)."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    """``5 March 2026 14:03 UTC``."""
    if value is None:
        return ""
    return f"{format_date(value)} {value:%H:%M} {value.tzname() or 'UTC'}"


def safe_colour(value: str | None, default: str) -> str:
    """A ``#rrggbb`` colour, or ``default`` when the configured one is anything else."""
    if value is not None and _HEX_COLOUR.fullmatch(value.strip()):
        return value.strip().lower()
    return default


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more with a ``#rrggbb`` background (WCAG luminance)."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(background[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


def safe_image_url(value: str | None) -> str | None:
    """Only https URLs or same-site paths may be used as a logo (matches the CSP img-src)."""
    if not value:
        return None
    url = value.strip()
    if url.startswith("https://") or (url.startswith("/") and not url.startswith("//")):
        return url
    return None


FILTERS: Mapping[str, Callable[..., Any]] = {
    "money": format_money,
    "unit_price": unit_price,
    "qty": format_quantity,
    "amount": plain_amount,
    "date": format_date,
    "datetime": format_datetime,
}


def install_filters(env: jinja2.Environment) -> None:
    """Give an environment the money/date filters (the email renderer uses them too)."""
    env.filters.update(FILTERS)
