"""``syncd bench --books`` at a tiny size: every payment and fee booked, in batches, and the company's
one-time books setup counted apart from the write calls per payment."""

from __future__ import annotations

import pytest

from syncd.bench_books import bench_books


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
