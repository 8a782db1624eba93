"""``syncd bench --books`` at a tiny size: every payment and fee booked, in batches, and the company's
one-time books setup (per currency) counted apart from the write calls per payment."""

from __future__ import annotations

import pytest

from syncd.bench_books import bench_books, first_of_each_currency


@pytest.mark.slow
def test_books_bench_counts_what_booking_the_payments_cost() -> None:
    result = bench_books(60, per_customer=1, timeout=300)
    assert result["payments_timed"] == 60 and result["fees_booked"] == 60
    # 120 entries: four batch calls at best (a run this small fills them less: its payments reach
    # syncd over a few seconds); the first payment's accounts and vendor are not in the count.
    assert result["first_payment_setup_calls"]["write"] >= 1
    assert result["qbo_batch_calls"] >= 4
    assert result["qbo_write_calls"] == result["qbo_batch_calls"] + result["qbo_single_writes"]
    assert result["qbo_write_calls"] <= 120 // 4, {k: result[k] for k in sorted(result)}
    assert result["qbo_batch_calls_of_queries"] >= 0
    assert result["qbo_throttled_429"] == 0 and result["batches_sent_again"] == 0


def test_the_warm_up_pays_the_first_invoice_of_each_currency_and_the_count_the_rest() -> None:
    picked = [("1", "USD"), ("2", "USD"), ("3", "CAD"), ("4", "USD"), ("5", "CAD"), ("6", "EUR")]
    assert first_of_each_currency(picked, 2) == (["1", "3", "6"], ["2", "4"])
    assert first_of_each_currency(picked, 10) == (["1", "3", "6"], ["2", "4", "5"])
