"""``syncd bench --autopay``: every enrolled charge gets one notice, planned, queued and rendered."""

from __future__ import annotations

from syncd.bench_autopay import bench_autopay


def test_every_charge_gets_one_notice() -> None:
    figures = bench_autopay(20)
    assert figures["notices_queued"] == figures["notices_rendered"] == 20
    assert figures["planned_queued_rendered_s"] >= figures["planned_and_queued_s"] > 0
