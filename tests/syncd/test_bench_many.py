"""``syncd bench --many`` at a tiny size: several companies on one daemon, every payment booked."""

from __future__ import annotations

import pytest

from syncd.bench_many import bench_many


@pytest.mark.slow
def test_many_companies_bench_books_every_payment() -> None:
    result = bench_many(3, invoices=20, payments=6, rate=20.0, timeout=120)
    assert result["companies"] == 3
    assert result["payments"] == 6
    assert result["completed"] == 6
    assert result["p95_seconds"] is not None and result["peak_rss_mb"] > 0
    # The payer's own pace is printed, and where each payment's time went, stage by stage.
    assert result["arrived_per_second"] is not None
    assert set(result["stages_seconds"]) == {
        f"{stage}_p50_p95_max" for stage in ("stored", "queued", "claimed", "answered", "done")
    }
    assert result["all_payable_after_seconds"] >= result["payments_began_after_seconds"]
