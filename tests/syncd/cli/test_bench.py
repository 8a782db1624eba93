"""``syncd bench`` at toy scale: every section produces numbers and the JSON output parses."""

from __future__ import annotations

import json

import pytest

from syncd.bench import table
from syncd.bench_loop import percentile
from syncd.cli.main import run


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0], 50) == 1.0


def test_table_reports_missing_sections() -> None:
    text = table({"pull": {"invoices": 10}, "payments": None, "qbo_requests": None})
    assert "invoices" in text and "(not available)" in text


@pytest.mark.slow
def test_bench_json_at_small_scale(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bench", "--json", "--invoices", "200", "--payments", "2"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["pull"]["invoices"] == 200
    assert results["pull"]["invoices_per_second"] > 0
    assert results["payments"]["completed"] == 2
    assert results["payments"]["p95_seconds"] >= results["payments"]["p50_seconds"] >= 0
    assert results["qbo_requests"] is None or results["qbo_requests"]["idle_poll_requests"] >= 1
    assert results["account"]["invoices_on_page"] >= 200
    assert results["account"]["queries_per_page"] <= 3
    assert results["account"]["sign_in_email_median_s"] > 0
