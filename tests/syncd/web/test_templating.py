"""Money and date formatting, colour handling and the template override order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from syncd.formatting import format_date, format_datetime, format_money
from syncd.presentation import (
    format_quantity,
    plain_amount,
    safe_colour,
    safe_image_url,
    text_colour_on,
)
from syncd.web.templating import Templating


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "USD", "$1,234.50"),
        ("0.005", "USD", "$0.01"),  # half-up at the currency's precision
        ("-12", "usd", "-$12.00"),
        ("1234.5", "JPY", "¥1,235"),
        ("1234.5", "KWD", "KWD\u00a01,234.500"),
        ("9.999", "BHD", "BHD\u00a09.999"),
        ("100", "CHF", "CHF\u00a0100.00"),
        ("0.10000000000000000000000001", "EUR", "€0.10"),
        ("12345678901234567890.12", "GBP", "£12,345,678,901,234,567,890.12"),
    ],
)
def test_format_money_is_exact(amount: str, currency: str, expected: str) -> None:
    assert format_money(Decimal(amount), currency) == expected


def test_format_money_refuses_float() -> None:
    with pytest.raises(TypeError):
        format_money(1.5, "USD")  # type: ignore[arg-type]


def test_unit_precision_and_plain_amounts() -> None:
    assert format_money(Decimal("0.125"), "USD", keep_precision=True) == "$0.125"
    assert format_money(Decimal("0.1"), "USD", keep_precision=True) == "$0.10"
    assert plain_amount(Decimal("1234.5"), "USD") == "1234.50"
    assert plain_amount(Decimal("1234"), "JPY") == "1234"
    assert format_quantity(Decimal("10.000")) == "10"
    assert format_quantity(Decimal("1.50")) == "1.5"


def test_dates() -> None:
    assert format_date(date(2026, 3, 5)) == "March 5, 2026"  # en_US's long date (Babel)
    assert format_date(None) == ""
    assert format_datetime(datetime(2026, 3, 5, 14, 3, tzinfo=UTC)) == "March 5, 2026 2:03\u202fPM UTC"


def test_colours_and_images() -> None:
    assert safe_colour("#AABBCC", "#000000") == "#aabbcc"
    assert safe_colour("red", "#000000") == "#000000"
    assert safe_colour("#abc", "#000000") == "#000000"
    assert text_colour_on("#ffffff") == "#000000"
    assert text_colour_on("#0b5394") == "#ffffff"
    assert safe_image_url("https://x/y.png") == "https://x/y.png"
    assert safe_image_url("/static/logo.png") == "/static/logo.png"
    for bad in ["javascript:alert(1)", "//evil.example/x.png", "http://x/y.png", "data:text/html,x", ""]:
        assert safe_image_url(bad) is None


def test_override_dir_first_then_package(tmp_path: Path) -> None:
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "message.html").write_text("{{ title }}|{{ 5|money('USD') }}")
    t = Templating(tmp_path)
    assert t.render("portal/message.html", {"title": "<i>"}) == "&lt;i&gt;|$5.00"
    assert "Page not found" in t.render("portal/not_found.html", {"root": ""})
    assert "Page not found" in Templating(None).render("portal/not_found.html", {"root": ""})
