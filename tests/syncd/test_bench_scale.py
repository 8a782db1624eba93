"""The scale benchmark's write-back run on a small company: batches of 30, no reads, no 429."""

from __future__ import annotations

from syncd.bench_scale import bench_writeback


def test_writeback_bench_small_company() -> None:
    result = bench_writeback(300, timeout=120)
    assert result["links_left_unwritten"] == 0
    assert result["links_published"] > 100
    assert result["batch_calls_writeback"] == -(-result["links_published"] // 30)
    assert result["reads_during_writeback"] == 0 and result["writes"] == 0
    assert result["reads"] <= 12
    assert result["throttled_429"] == 0
