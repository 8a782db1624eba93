"""The scale benchmark's write-back run on a small company: batches of 30, no reads, no 429."""

from __future__ import annotations

from syncd.bench_scale import bench_writeback, linearity


def test_writeback_bench_small_company() -> None:
    result = bench_writeback(300, timeout=120)
    assert result["links_left_unwritten"] == 0
    assert result["links_published"] > 100
    assert result["batch_calls_writeback"] == -(-result["links_published"] // 30)
    assert result["reads_during_writeback"] == 0 and result["writes"] == 0
    assert result["reads"] <= 12
    assert result["throttled_429"] == 0


def test_linearity_compares_the_cost_per_1000_invoices() -> None:
    small = {"invoices": 10_000, "seconds_per_1000": 0.4}
    big = {"invoices": 100_000, "seconds_per_1000": 0.5}
    figures = linearity(small, big)
    assert figures["per_1000_ratio"] == 1.25
    assert figures["invoices_big"] == 100_000 and figures["target_ratio_at_most"] == 1.5
