"""The request-budget benchmark runs and stays within its targets on a small company."""

from __future__ import annotations

from connectors.quickbooks.bench import run_qbo_bench


def test_bench_small_company() -> None:
    result = run_qbo_bench(300)
    assert result["invoices"] == 300
    assert result["initial_pull_requests"] == 3  # CompanyInfo+Preferences, COUNTs, one batch of pages
    assert result["idle_poll_requests"] == 1
    assert result["payment_failures"] == 0
    expected_batches = -(-result["payments_written"] // 30)
    assert result["payment_write_requests"] == expected_batches
