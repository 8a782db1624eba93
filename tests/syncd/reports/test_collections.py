"""Collections: money received per week or month in the company's zone, by method and by the
message that preceded it; what QBO shows paid that syncd did not take is told apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from report_rows import REALM, company, effect, invoice, payment

from syncd.domain.payments import PaymentStatus
from syncd.reports import collections
from syncd.store.engine import Database

NY = ZoneInfo("America/New_York")
D = Decimal


def at(day: int, hour: int = 15, month: int = 2) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.transaction() as s:
        s.add(company())
        s.add_all(
            [
                effect("e1", "email.invoice", {"invoice_id": "1"}, at=at(1, 10)),
                effect("e2", "email.reminder", {"invoice_id": "1", "days": 7}, at=at(5, 14)),
                effect(
                    "e3",
                    "email.notice",
                    {
                        "customer_id": "7",
                        "day": "2026-02-03",
                        "items": [{"invoice_id": "2", "reason": "invoice"}],
                    },
                    at=at(3),
                ),
                # a reminder not yet sent (pending) and one sent after the payment started: neither counts
                effect("e4", "email.reminder", {"invoice_id": "2", "days": 3}, at=at(7), status="pending"),
                effect("e5", "email.reminder", {"invoice_id": "5", "days": 3}, at=at(18)),
                # card only offered: card; after the reminder of Feb 5
                payment("p1", ["1"], "60.00", at=at(6, 15), offered=["card"]),
                # 04:30 UTC on Feb 9 is 23:30 on Feb 8 in New York: the week of Feb 2
                payment("p2", ["2"], "25.00", at=at(9, 4), method="us_bank_account"),
                # several invoices at once: only the account does that; method not recorded
                payment("p3", ["3", "4"], "30.00", at=at(10), offered=["card", "us_bank_account"]),
                payment("p4", ["5"], "12.00", at=at(17), started=at(17, 9), method="card"),
                payment("p5", ["5"], "12.00", at=at(16), status=PaymentStatus.FAILED, method="card"),
                payment("p7", ["40"], "9.99", at=at(18), currency="EUR", method="card", customer="8"),
                invoice("1", total="100.00", balance="0", status="paid", updated=at(12)),  # 40 paid in QBO
                invoice("2", total="25.00", balance="0", status="paid", updated=at(9, 5)),
                invoice("3", total="20.00", balance="5.00", status="partial", updated=at(10)),
                invoice("4", total="20.00", balance="0", status="paid", updated=at(20)),  # 5 paid in QBO
                invoice("5", total="12.00", balance="0", status="paid", updated=at(17)),
                invoice("6", total="50.00", balance="20.00", status="partial", updated=at(17)),  # 30 in QBO
                invoice("7", total="10.00", balance="0", status="voided", updated=at(17)),
                invoice("8", total="10.00", balance="0", status="paid", updated=at(15, month=1)),  # before
                invoice("40", total="9.99", balance="0", status="paid", currency="EUR", updated=at(18)),
            ]
        )
    return db


def test_weekly_by_method_and_channel(seeded: Database) -> None:
    with seeded.transaction() as s:
        report = collections.build(s, REALM, start=date(2026, 2, 2), end=date(2026, 2, 22), zone=NY)
    rows = {(p.period, p.currency): p for p in report.periods}
    assert sorted(rows) == sorted(
        (date(2026, 2, d), c) for d in (2, 9, 16) for c in ("USD", "EUR")
    )  # every week, empty ones too
    w1, w2, w3 = (rows[(date(2026, 2, d), "USD")] for d in (2, 9, 16))
    # methods: card, bank_debit, online_unrecorded, in_quickbooks
    # channels: invoice_email, reminder, account, autopay, unknown
    assert (w1.total, w1.by_method, w1.by_channel) == (D("85.00"), (60, 25, 0, 0), (25, 60, 0, 0, 0))
    assert (w2.total, w2.by_method, w2.by_channel) == (D("70.00"), (0, 0, 30, 40), (0, 0, 30, 0, 40))
    assert (w3.total, w3.by_method, w3.by_channel) == (D("47.00"), (12, 0, 0, 35), (0, 0, 0, 0, 47))
    eur = rows[(date(2026, 2, 16), "EUR")]
    assert (eur.total, eur.by_method, eur.by_channel) == (
        D("9.99"),
        (D("9.99"), 0, 0, 0),
        (0, 0, 0, 0, D("9.99")),
    )
    assert rows[(date(2026, 2, 2), "EUR")].total == 0


def test_monthly_totals(seeded: Database) -> None:
    with seeded.transaction() as s:
        report = collections.build(
            s, REALM, start=date(2026, 2, 1), end=date(2026, 2, 28), zone=NY, grain="month"
        )
    assert [(p.period, p.currency, p.total) for p in report.periods] == [
        (date(2026, 2, 1), "EUR", D("9.99")),
        (date(2026, 2, 1), "USD", D("202.00")),
    ]


def test_table_json_and_charts_agree(seeded: Database) -> None:
    with seeded.transaction() as s:
        report = collections.build(s, REALM, start=date(2026, 2, 2), end=date(2026, 2, 22), zone=NY)
    table = report.table()
    assert [tuple(r.values()) for r in report.to_json()["rows"]] == table
    assert (
        "2026-02-02",
        "USD",
        "85.00",
        "60.00",
        "25.00",
        "0.00",
        "0.00",
        "25.00",
        "60.00",
        "0.00",
        "0.00",
        "0.00",
    ) in table
    charts = report.charts()
    assert [c.title for c in charts] == [
        "Collected per week (EUR)",
        "Collected by method (EUR)",
        "Collected by channel (EUR)",
        "Collected per week (USD)",
        "Collected by method (USD)",
        "Collected by channel (USD)",
    ]
    assert charts[3].kind == "line" and charts[3].series == (("total", (D("85.00"), D("70.00"), D("47.00"))),)
    usd_methods = dict(charts[4].series)
    assert usd_methods["in_quickbooks"] == (0, D("40"), D("35"))


def test_periods_cover_the_span() -> None:
    assert collections.periods(date(2026, 2, 4), date(2026, 2, 16), "week") == [
        date(2026, 2, 2),
        date(2026, 2, 9),
        date(2026, 2, 16),
    ]
    assert collections.periods(date(2025, 12, 20), date(2026, 1, 2), "month") == [
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
    with pytest.raises(ValueError, match="week or month"):
        collections.periods(date(2026, 1, 1), date(2026, 1, 2), "day")
