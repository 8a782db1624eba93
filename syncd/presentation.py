"""How amounts, dates and brand colours are shown to people: the Jinja filters (in the company's
locale, through Babel) and theme values shared by the portal's pages and the emails."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from syncd.config import DEFAULT_BRANDING
from syncd.domain.money import display_exponent
from syncd.formatting import DEFAULT_LOCALE, format_date, format_datetime, format_money, round_money

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

# The fallbacks are the configured defaults (one definition, in syncd.config).
DEFAULT_PRIMARY = DEFAULT_BRANDING.primary_color
DEFAULT_ACCENT = DEFAULT_BRANDING.accent_color


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point a currency is shown with."""
    return display_exponent(currency)


def format_amount(amount: Decimal, currency: str) -> str:
    """The bare number, grouped, with the currency's decimals: ``1,234.50``; exact, never float."""
    exp = currency_exponent(currency)
    return f"{round_money(amount, currency):,.{exp}f}"


def plain_amount(amount: Decimal, currency: str) -> str:
    """The amount as a payer would type it back into a form: ``1234.50`` (no grouping)."""
    return f"{round_money(amount, currency):.{currency_exponent(currency)}f}"


def format_quantity(value: Decimal) -> str:
    """``2``, ``1.5``: a quantity without trailing zeros or exponent notation."""
    return f"{value.normalize():f}"


def unit_price(amount: Decimal, currency: str, *, locale: str = DEFAULT_LOCALE) -> str:
    return format_money(amount, currency, locale=locale, keep_precision=True)


# The locale of the template being rendered. A context variable rather than a template variable:
# macros imported without context (the emails' ``_macros.html``) format in it too.
_LOCALE: ContextVar[str] = ContextVar("render_locale", default=DEFAULT_LOCALE)


@contextmanager
def rendering_in(locale: object) -> Iterator[None]:
    """Render inside in ``locale`` (a context's ``locale`` value; anything but a tag: the default)."""
    token = _LOCALE.set(locale if isinstance(locale, str) and locale else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _LOCALE.reset(token)


def _money_filter(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency, locale=_LOCALE.get())


def _unit_price_filter(amount: Decimal, currency: str) -> str:
    return unit_price(amount, currency, locale=_LOCALE.get())


def _date_filter(value: date | datetime | None) -> str:
    return format_date(value, locale=_LOCALE.get())


def _datetime_filter(value: datetime | None) -> str:
    return format_datetime(value, locale=_LOCALE.get())


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
    "money": _money_filter,
    "unit_price": _unit_price_filter,
    "qty": format_quantity,
    "amount": plain_amount,
    "date": _date_filter,
    "datetime": _datetime_filter,
}


def template_loader(override_dir: Path | None, packaged: Path) -> jinja2.BaseLoader:
    """Templates a business put in ``override_dir`` win over the packaged ones of the same name."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(packaged)))
    return jinja2.ChoiceLoader(loaders)


def install_filters(env: jinja2.Environment) -> None:
    """Give an environment the money/date filters (the email renderer uses them too); they format
    in the locale of the enclosing :func:`rendering_in` (``syncd.formatting``)."""
    env.filters.update(FILTERS)
