"""Money and dates as people read them, in a company's locale (Babel's CLDR data).

The digits shown come from the one currency table (``syncd.domain.money``): what can be charged,
rounded half-up, exact (Decimal, never float). Symbols, grouping, sign and the order of day, month
and year come from the locale. Used by the web pages, the emails and anything else a person reads;
it knows no template engine.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.numbers import NumberPattern, get_currency_symbol, parse_pattern

from syncd.domain.money import display_exponent

DEFAULT_LOCALE = "en_US"


@functools.cache
def locale_of(tag: str) -> Locale:
    """The Babel locale for ``tag`` (``en_US``, ``de-DE``, ``fr``); ValueError when unknown."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {tag!r}; use a tag such as en_US or de_DE") from exc


@functools.cache
def _currency_pattern(tag: str, digits: int, most: int) -> NumberPattern:
    pattern = copy.copy(parse_pattern(locale_of(tag).currency_formats["standard"]))
    pattern.frac_prec = (digits, most)
    return pattern


@functools.cache
def _spacing(tag: str, code: str) -> tuple[re.Pattern[str], ...]:
    # CLDR's currencySpacing, which Babel does not apply: where a symbol meets the digits with a
    # letter (an ISO code such as KWD, not US$), a no-break space keeps them apart.
    symbol = re.escape(get_currency_symbol(code, locale=locale_of(tag)))
    gaps: list[re.Pattern[str]] = []
    if symbol[-1:].isalpha():
        gaps.append(re.compile(rf"(?<={symbol})(?=\d)"))
    if symbol[:1].isalpha():
        gaps.append(re.compile(rf"(?<=\d)(?={symbol})"))
    return tuple(gaps)


def _decimals(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` to the digits ``currency`` is shown with, halves away from zero."""
    return amount.quantize(Decimal(1).scaleb(-display_exponent(currency)), rounding=ROUND_HALF_UP)


def format_money(
    amount: Decimal, currency: str, *, locale: str = DEFAULT_LOCALE, keep_precision: bool = False
) -> str:
    """``$1,234.50``, ``¥1,235``, ``KWD 1,234.500`` in en_US; ``1.234,50 €`` in de_DE.

    ``keep_precision`` shows extra digits instead of rounding them (unit prices such as 0.125).
    """
    if isinstance(amount, int) and not isinstance(amount, bool):
        amount = Decimal(amount)
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal (or int), got {type(amount).__name__}")
    code = currency.upper()
    digits = display_exponent(code)
    value = amount if keep_precision and _decimals(amount) > digits else round_money(amount, code)
    pattern = _currency_pattern(locale, digits, max(digits, _decimals(value)))
    text = str(pattern.apply(value, locale_of(locale), currency=code, currency_digits=False))
    for gap in _spacing(locale, code):
        text = gap.sub("\u00a0", text)
    return text


def format_date(value: date | datetime | None, *, locale: str = DEFAULT_LOCALE) -> str:
    """The locale's long date, with the month in words (``March 5, 2026``, ``5. März 2026``):
    never the 03/05 that readers on two continents read differently."""
    if value is None:
        return ""
    return babel_date(value, format="long", locale=locale_of(locale))


def format_datetime(value: datetime | None, *, locale: str = DEFAULT_LOCALE) -> str:
    """The long date, the locale's short time and the zone: ``March 5, 2026 2:03 PM UTC``."""
    if value is None:
        return ""
    time = babel_time(value, format="short", locale=locale_of(locale))
    return f"{format_date(value, locale=locale)} {time} {value.tzname() or 'UTC'}"
