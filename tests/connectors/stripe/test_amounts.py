"""Decimal <-> Stripe minor units: every currency class, and nothing rounded silently."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.stripe.amounts import (
    THREE_DECIMAL,
    ZERO_DECIMAL,
    domain_currency,
    exponent,
    from_minor,
    to_minor,
    wire_currency,
)
from syncd.errors import ValidationError


def test_the_currency_lists_are_stripes() -> None:
    expected = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
    assert " ".join(sorted(ZERO_DECIMAL)) == expected
    assert sorted(THREE_DECIMAL) == ["BHD", "JOD", "KWD", "OMR", "TND"]


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("10.00", "USD", 1000),
        ("10", "usd", 1000),
        ("0.01", "USD", 1),
        ("1234567.89", "EUR", 123456789),
        ("10.50", "USD", 1050),
        ("10.000", "USD", 1000),
        ("-4.00", "USD", -400),
        ("500", "JPY", 500),
        ("500.00", "JPY", 500),
        ("1", "KRW", 1),
        ("5.120", "KWD", 5120),
        ("5.12", "KWD", 5120),
        ("0.010", "BHD", 10),
        ("12", "OMR", 12000),
        ("5", "ISK", 500),
    ],
)
def test_to_minor_exact(amount: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.005", "USD"),
        ("0.001", "EUR"),
        ("500.5", "JPY"),
        ("1.01", "KRW"),
        ("5.125", "KWD"),
        ("5.1201", "KWD"),
        ("0.001", "TND"),
        ("5.10", "ISK"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
    ],
)
def test_to_minor_refuses_what_does_not_convert_exactly(amount: str, currency: str) -> None:
    with pytest.raises(ValidationError):
        to_minor(Decimal(amount), currency)


@pytest.mark.parametrize("bad", [10.5, 10, True, "10.00"])
def test_to_minor_refuses_non_decimals(bad: object) -> None:
    with pytest.raises(TypeError):
        to_minor(bad, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["US", "USDX", "12$", ""])
def test_bad_currency_codes(currency: str) -> None:
    with pytest.raises(ValidationError):
        to_minor(Decimal("1.00"), currency)


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (1099, "usd", "10.99"),
        (100, "USD", "1.00"),
        (-400, "usd", "-4.00"),
        (0, "usd", "0.00"),
        (500, "jpy", "500"),
        (5120, "kwd", "5.120"),
        (1, "bhd", "0.001"),
    ],
)
def test_from_minor(minor: int, currency: str, amount: str) -> None:
    result = from_minor(minor, currency)
    assert result == Decimal(amount)
    assert str(result) == amount  # the currency's decimals, not just an equal value


def test_from_minor_refuses_floats() -> None:
    with pytest.raises(TypeError):
        from_minor(10.0, "USD")  # type: ignore[arg-type]


def test_exponents_and_case() -> None:
    assert [exponent(c) for c in ("usd", "JPY", "kwd", "ISK")] == [2, 0, 3, 2]
    assert wire_currency("USD") == "usd"
    assert domain_currency("usd") == "USD"


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12), currency=st.sampled_from(["USD", "JPY", "EUR"])
)
def test_round_trip_two_and_zero_decimal(minor: int, currency: str) -> None:
    assert to_minor(from_minor(minor, currency), currency) == minor


@given(
    tens=st.integers(min_value=-(10**11), max_value=10**11), currency=st.sampled_from(sorted(THREE_DECIMAL))
)
def test_round_trip_three_decimal(tens: int, currency: str) -> None:
    assert to_minor(from_minor(tens * 10, currency), currency) == tens * 10
