"""The one currency-exponent table: Stripe's lists, checked against CLDR (Babel) where they agree,
and Stripe's documented exceptions kept exact."""

from __future__ import annotations

import pytest
from babel.numbers import get_currency_precision

from connectors.stripe import amounts
from connectors.stripe.simulator import currency as simulated
from syncd.domain.money import (
    THREE_DECIMAL,
    TWO_DECIMAL_AT_STRIPE,
    WHOLE_UNITS_ONLY,
    ZERO_DECIMAL,
    display_exponent,
    minor_exponent,
)


@pytest.mark.parametrize("code", sorted(ZERO_DECIMAL))
def test_stripes_zero_decimal_currencies_have_no_digits_in_cldr(code: str) -> None:
    assert get_currency_precision(code) == 0
    assert minor_exponent(code) == minor_exponent(code.lower()) == 0


@pytest.mark.parametrize("code", sorted(THREE_DECIMAL))
def test_stripes_three_decimal_currencies_have_three_digits_in_cldr(code: str) -> None:
    assert get_currency_precision(code) == 3
    assert minor_exponent(code) == 3


@pytest.mark.parametrize("code", sorted(TWO_DECIMAL_AT_STRIPE))
def test_where_stripe_departs_from_cldr_it_keeps_two_decimals(code: str) -> None:
    assert get_currency_precision(code) == 0  # if CLDR changes, look at Stripe's docs again
    assert minor_exponent(code) == 2


@pytest.mark.parametrize("code", ["USD", "EUR", "GBP", "CAD", "TWD", "CHF", "AUD"])
def test_everything_else_is_to_the_cent(code: str) -> None:
    assert get_currency_precision(code) == minor_exponent(code) == 2


def test_display_follows_what_can_be_charged() -> None:
    assert WHOLE_UNITS_ONLY <= TWO_DECIMAL_AT_STRIPE
    assert [display_exponent(c) for c in ("USD", "JPY", "KWD", "ISK", "HUF", "isk")] == [2, 0, 3, 0, 2, 0]


@pytest.mark.parametrize("code", ["USD", "JPY", "KWD", "ISK", "HUF", "CLP", "BHD"])
def test_the_connector_and_the_simulator_read_the_one_table(code: str) -> None:
    assert amounts.exponent(code) == simulated.exponent(code.lower()) == minor_exponent(code)
