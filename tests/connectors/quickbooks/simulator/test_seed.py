"""The seeded company: deterministic, every invoice state, consistent balances, fast at any size."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.quickbooks.simulator.seed import build_realm
from connectors.quickbooks.simulator.ui import invoice_status

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def _invoices(invoices: int, seed: int = 0) -> list[dict[str, object]]:
    state, _ = build_realm("1", seed=seed, invoices=invoices, currencies=("USD", "CAD"), now=NOW)
    return list(state.table("Invoice").rows())


def test_deterministic_from_seed() -> None:
    assert _invoices(30, seed=4) == _invoices(30, seed=4)
    assert _invoices(30, seed=4) != _invoices(30, seed=5)


def test_every_state_and_consistent_amounts() -> None:
    state, _ = build_realm("1", seed=0, invoices=400, currencies=("USD", "CAD"), now=NOW)
    invoices = list(state.table("Invoice").rows())
    statuses = Counter(invoice_status(row, "2026-03-10") for row in invoices)
    assert {"open", "partly paid", "paid", "overdue", "voided"} <= set(statuses)
    payments = {row["Id"]: row for row in state.table("Payment").rows()}
    currencies = Counter(row["CurrencyRef"]["value"] for row in invoices)
    assert currencies["CAD"] == 20 and currencies["USD"] == 380
    for row in invoices:
        lines = row["Line"]
        assert isinstance(lines, list)
        sales = sum(
            (line["Amount"] for line in lines if line["DetailType"] == "SalesItemLineDetail"), Decimal(0)
        )
        subtotal = next(line["Amount"] for line in lines if line["DetailType"] == "SubTotalLineDetail")
        assert sales == subtotal
        discount = sum(
            (line["Amount"] for line in lines if line["DetailType"] == "DiscountLineDetail"), Decimal(0)
        )
        tax = Decimal(str(row["TxnTaxDetail"]["TotalTax"]))
        assert row["TotalAmt"] == subtotal - discount + tax
        paid = Decimal(0)
        for link in row["LinkedTxn"]:
            payment = payments[link["TxnId"]]
            paid += sum(line["Amount"] for line in payment["Line"])
            assert payment["CustomerRef"] == row["CustomerRef"]
        assert row["Balance"] == row["TotalAmt"] - paid
        if row["CurrencyRef"]["value"] == "CAD":
            assert Decimal(str(row["ExchangeRate"])) > 0
    customers = list(state.table("Customer").rows())
    assert len(customers) == 40
    assert all(c["PrimaryEmailAddr"]["Address"] and c["PrimaryPhone"]["FreeFormNumber"] for c in customers)
    assert len({c["DisplayName"] for c in customers}) == 40
    open_by_customer: Counter[str] = Counter()
    for row in invoices:
        open_by_customer[row["CustomerRef"]["value"]] += row["Balance"]
    for customer in customers:
        assert customer["Balance"] == open_by_customer[customer["Id"]]
    accounts = {row["Name"]: row for row in state.table("Account").rows()}
    assert accounts["Checking"]["AccountType"] == "Bank" and accounts["Services"]["AccountType"] == "Income"


def test_minimum_size_has_three_customers() -> None:
    state, _ = build_realm("1", seed=0, invoices=10, currencies=("USD",), now=NOW)
    assert len(state.table("Customer")) == 3 and len(state.table("Invoice")) == 10


@pytest.mark.slow
def test_100k_invoices_seed_lazily() -> None:
    state, _ = build_realm("1", seed=1, invoices=100_000, currencies=("USD", "CAD"), now=NOW)
    table = state.table("Invoice")
    assert len(table) == 100_000 and len(state.table("Customer")) == 10_000
    last = table.get(table.ids()[-1])
    assert last is not None and last["DocNumber"] == str(1001 + 99_999)
