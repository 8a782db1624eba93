"""Audit results per UTC month from syncd's record: transactions booked or without entry, and
the QuickBooks writes that failed or are held."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from report_rows import REALM, company, effect, movement

from syncd.reports import audits
from syncd.store.engine import Database


def test_months_and_currencies(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.add_all(
            [
                movement("txn_1", "10.00", at=datetime(2026, 1, 15, tzinfo=UTC), entries={"payment": "P1"}),
                movement("txn_2", "5.00", at=datetime(2026, 1, 20, tzinfo=UTC)),
                movement(
                    "txn_3",
                    "7.00",
                    at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC),
                    currency="eur",
                    entries={"fee": "F"},
                ),
                movement(
                    "txn_4", "2.50", at=datetime(2026, 2, 1, 0, 10, tzinfo=UTC), entries={"payment": "P2"}
                ),
                movement("txn_5", "1.00", at=datetime(2025, 12, 31, 23, 0, tzinfo=UTC)),  # before
                effect("q1", "qbo.payment", {}, at=datetime(2026, 1, 16, tzinfo=UTC), status="failed"),
                effect(
                    "q2",
                    "qbo.fee",
                    {},
                    at=datetime(2026, 2, 2, tzinfo=UTC),
                    status="pending",
                    held=datetime(2026, 2, 2, tzinfo=UTC),
                ),
                effect(
                    "q3",
                    "qbo.payout",
                    {},
                    at=datetime(2026, 2, 2, tzinfo=UTC),
                    held=datetime(2026, 2, 2, tzinfo=UTC),
                ),  # done since
                effect("m1", "email.receipt", {}, at=datetime(2026, 1, 16, tzinfo=UTC), status="failed"),
            ]
        )
    with db.transaction() as s:
        report = audits.build(s, REALM, start=date(2026, 1, 10), end=date(2026, 2, 5))
    assert (report.start, report.end) == (date(2026, 1, 1), date(2026, 2, 28))
    assert report.table() == [
        ("2026-01", "EUR", "1", "1", "0", "7.00", "", ""),
        ("2026-01", "USD", "2", "1", "1", "15.00", "", ""),
        ("2026-01", "all", "3", "2", "1", "", "1", "0"),
        ("2026-02", "USD", "1", "1", "0", "2.50", "", ""),
        ("2026-02", "all", "1", "1", "0", "", "0", "1"),
    ]
    booked, without = report.charts()[0].series
    assert booked == ("booked", (Decimal(2), Decimal(1))) and without == (
        "without_entry",
        (Decimal(1), Decimal(0)),
    )
