"""The split of an invoice's balance into a down payment and installments: exact to the cent
(the remainder on the last), refused clearly when it cannot be; and the installments' dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncd.domain.plans import Cadence, PlanError, add_months, covered, due_dates, quantum, split


def test_the_remainder_cent_goes_on_the_last_installment() -> None:
    assert split(Decimal("100.00"), Decimal("10.00"), 3, "USD") == [
        Decimal("10.00"),
        Decimal("30.00"),
        Decimal("30.00"),
        Decimal("30.00"),
    ]
    assert split(Decimal("100.00"), Decimal("0.01"), 3, "USD") == [
        Decimal("0.01"),
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert split(Decimal("100.01"), Decimal("0.01"), 3, "USD")[-1] == Decimal("33.34")
    assert split(Decimal("1000"), Decimal("1"), 3, "JPY") == [
        Decimal("1"),
        Decimal("333"),
        Decimal("333"),
        Decimal("333"),
    ]


@pytest.mark.parametrize(
    ("balance", "down", "count", "words"),
    [
        ("100.00", "0", 3, "more than zero"),
        ("100.00", "-5", 3, "more than zero"),
        ("100.00", "100.00", 3, "less than the open balance"),
        ("100.00", "150.00", 3, "less than the open balance"),
        ("100.00", "10.00", 0, "1 or more"),
        ("100.00", "10.005", 2, "decimals"),
        ("0.00", "1.00", 2, "no open balance"),
        ("0.05", "0.01", 5, "cannot be split"),
    ],
)
def test_impossible_splits_are_refused_in_one_line(balance: str, down: str, count: int, words: str) -> None:
    with pytest.raises(PlanError, match=words):
        split(Decimal(balance), Decimal(down), count, "USD")


@given(
    cents=st.integers(min_value=2, max_value=10**9),
    down_share=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    count=st.integers(min_value=1, max_value=60),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
)
def test_the_parts_always_sum_to_the_balance_exactly(
    cents: int, down_share: float, count: int, currency: str
) -> None:
    step = quantum(currency)
    balance = Decimal(cents) * step
    down = max(step, (balance * Decimal(str(down_share))).quantize(step))
    try:
        parts = split(balance, down, count, currency)
    except PlanError:
        # Only when the down payment took the whole balance or what is left is too small to share.
        assert down >= balance or (balance - down) < step * count
        return
    assert sum(parts, Decimal(0)) == balance
    assert len(parts) == count + 1 and parts[0] == down
    assert all(p > 0 and p == p.quantize(step) for p in parts)
    # Equal parts but the last, which holds the remainder (less than one step per installment).
    assert len(set(parts[1:-1])) <= 1
    assert Decimal(0) <= parts[-1] - parts[1] < step * count


def test_dates_fall_one_cadence_apart_and_months_keep_to_short_months() -> None:
    start = date(2026, 1, 31)
    assert due_dates(start, Cadence.WEEK, 2) == [start, date(2026, 2, 7), date(2026, 2, 14)]
    assert due_dates(start, Cadence.TWO_WEEKS, 1) == [start, date(2026, 2, 14)]
    assert due_dates(start, Cadence.MONTH, 3) == [
        start,
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_a_payment_covers_installments_in_order_and_only_whole_ones() -> None:
    parts = [Decimal("10"), Decimal("30"), Decimal("30")]
    assert covered(parts, Decimal("0")) == 0
    assert covered(parts, Decimal("39.99")) == 1
    assert covered(parts, Decimal("40")) == 2
    assert covered(parts, Decimal("100")) == 3
