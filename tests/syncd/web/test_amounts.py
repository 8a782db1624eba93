"""Properties of amount formatting and parsing: what the page shows, the payer can type back exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncd.domain import InvoiceStatus
from syncd.ports.portal import Branding, InvoiceView, PaymentState
from syncd.presentation import currency_exponent, format_amount, plain_amount
from syncd.web.portal import AmountError, parse_amount

CURRENCIES = ["USD", "JPY", "KWD", "EUR", "CLP", "BHD"]


def view(currency: str, balance: Decimal, min_partial: Decimal = Decimal(0)) -> InvoiceView:
    brand = Branding("B", None, "#000000", "#ffffff", None, None, None)
    return InvoiceView(
        token="t",
        branding=brand,
        doc_number="1",
        customer_name="C",
        txn_date=date(2026, 1, 1),
        due_date=None,
        currency=currency,
        lines=(),
        tax=Decimal(0),
        total=balance,
        amount_paid=Decimal(0),
        balance=balance,
        status=InvoiceStatus.OPEN,
        payment_state=PaymentState.NONE,
        overdue=False,
        allow_partial=True,
        min_partial=min_partial,
    )


@st.composite
def amounts(draw: st.DrawFn) -> tuple[str, Decimal]:
    currency = draw(st.sampled_from(CURRENCIES))
    minor = draw(st.integers(min_value=1, max_value=10**12))
    return currency, Decimal(minor).scaleb(-currency_exponent(currency))


@given(amounts())
def test_displayed_amounts_parse_back_exactly(case: tuple[str, Decimal]) -> None:
    currency, amount = case
    v = view(currency, amount)
    assert parse_amount(plain_amount(amount, currency), v) == amount
    assert parse_amount(format_amount(amount, currency), v) == amount  # with thousands separators


@given(amounts(), st.integers(min_value=1, max_value=3))
def test_more_decimals_than_the_currency_has_are_refused(case: tuple[str, Decimal], extra: int) -> None:
    currency, amount = case
    too_fine = amount + Decimal(1).scaleb(-(currency_exponent(currency) + extra))
    with pytest.raises(AmountError):
        parse_amount(f"{too_fine:f}", view(currency, amount * 2))


@pytest.mark.parametrize("raw", ["\u0661\u0662", "\u00b2", "\uff11\uff12"])
def test_only_ascii_digits(raw: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(raw, view("USD", Decimal("100000")))


@given(st.text(max_size=30))
def test_arbitrary_text_never_crashes(raw: str) -> None:
    try:
        result = parse_amount(raw, view("USD", Decimal("100.00")))
    except AmountError:
        return
    assert Decimal(0) < result <= Decimal("100.00")
