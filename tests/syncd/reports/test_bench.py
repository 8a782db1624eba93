"""The aging benchmark runs end to end on a small company and reports one query per report."""

from __future__ import annotations

import pytest

from syncd.reports import bench


def test_bench_prints_median_and_queries(capsys: pytest.CaptureFixture[str]) -> None:
    result = bench.main(["--invoices", "300", "--customers", "40", "--runs", "2"])
    assert (
        result["customers"] == 40
    )  # 36 customers owe dollars, the 4 that every tenth invoice falls to euros
    assert result["charts"] == 2
    assert result["queries"] <= 2  # the SELECT (and SQLite's BEGIN IMMEDIATE)
    assert "aging of 300 invoices" in capsys.readouterr().out
