"""Money and dates in a company's locale: Babel's symbols and order, the one table's digits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from syncd.formatting import format_date, format_datetime, format_money, locale_of
from syncd.web.templating import Templating


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "expected"),
    [
        ("en_US", "1234.5", "USD", "$1,234.50"),
        ("en_US", "-1234.5", "EUR", "-€1,234.50"),
        ("en_US", "5", "ISK", "ISK\u00a05"),  # whole krónur only
        ("en_US", "5", "HUF", "HUF\u00a05.00"),  # Stripe charges fillér
        ("de_DE", "1234.5", "EUR", "1.234,50\u00a0€"),
        ("de_DE", "1234.5", "KWD", "1.234,500\u00a0KWD"),
        ("de_DE", "1234.5", "JPY", "1.235\u00a0¥"),
        ("fr_FR", "1234.5", "EUR", "1\u202f234,50\u00a0€"),
        ("en_GB", "1234.5", "USD", "US$1,234.50"),
        ("de-CH", "1234.5", "CHF", "CHF\u00a01'234.50"),
        ("ja_JP", "0.005", "USD", "$0.01"),  # half-up at the currency's precision
    ],
)
def test_money_in_each_locale(locale: str, amount: str, currency: str, expected: str) -> None:
    assert format_money(Decimal(amount), currency, locale=locale) == expected


def test_unit_prices_keep_their_precision_in_any_locale() -> None:
    assert format_money(Decimal("0.125"), "EUR", locale="de_DE", keep_precision=True) == "0,125\u00a0€"
    assert format_money(Decimal("0.1"), "EUR", locale="de_DE", keep_precision=True) == "0,10\u00a0€"


def test_dates_in_each_locale() -> None:
    day = date(2026, 3, 5)
    assert format_date(day, locale="en_GB") == "5 March 2026"
    assert format_date(day, locale="de_DE") == "5. März 2026"
    assert format_date(day, locale="fr_CA") == "5 mars 2026"
    moment = datetime(2026, 3, 5, 14, 3, tzinfo=UTC)
    assert format_datetime(moment, locale="de_DE") == "5. März 2026 14:03 UTC"
    assert format_datetime(None, locale="de_DE") == format_date(None) == ""


def test_an_unknown_locale_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="xx_YY"):
        locale_of("xx_YY")


def test_template_filters_format_in_the_contexts_locale(tmp_path: Path) -> None:
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "message.html").write_text(
        "{{ amount|money('EUR') }}|{{ amount|unit_price('EUR') }}|{{ day|date }}"
    )
    t = Templating(tmp_path)
    values = {"amount": Decimal("1234.5"), "day": date(2026, 3, 5)}
    assert t.render("portal/message.html", values) == "€1,234.50|€1,234.50|March 5, 2026"
    german = t.render("portal/message.html", {**values, "locale": "de_DE"})
    assert german == "1.234,50\u00a0€|1.234,50\u00a0€|5. März 2026"
