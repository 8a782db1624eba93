"""DSO: receivables at the period's end over the period's credit sales, times its days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from report_rows import REALM, company, invoice

from syncd.reports import dso
from syncd.store.engine import Database


def test_standard_formula_per_currency(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.add_all(
            [
                invoice("1", total="300.00", balance="100.00", status="partial", txn=date(2026, 1, 10)),
                invoice("2", total="200.00", txn=date(2026, 2, 10)),
                invoice("3", total="100.00", balance="0", status="paid", txn=date(2026, 3, 5)),
                invoice("4", total="50.00", txn=date(2025, 12, 1)),  # owed, but sold before the period
                invoice("5", total="999.00", status="voided", txn=date(2026, 2, 1)),
                invoice("6", total="77.00", txn=date(2026, 4, 1)),  # after the period
                invoice("7", total="10.00", currency="EUR", txn=date(2025, 12, 1)),
            ]
        )
    with db.transaction() as s:
        report = dso.build(s, REALM, as_of=date(2026, 3, 31), days=90)
    assert (report.start, report.end, report.days) == (date(2026, 1, 1), date(2026, 3, 31), 90)
    eur, usd = report.lines
    assert (usd.receivables, usd.credit_sales, usd.dso) == (
        Decimal("350.00"),
        Decimal("600.00"),
        Decimal("52.5"),
    )
    assert (eur.receivables, eur.credit_sales, eur.dso) == (Decimal("10.00"), 0, None)  # nothing sold
    assert report.table() == [
        ("EUR", "2026-01-01", "2026-03-31", "90", "10.00", "0.00", ""),
        ("USD", "2026-01-01", "2026-03-31", "90", "350.00", "600.00", "52.5"),
    ]
    (chart,) = report.charts()
    assert chart.labels == ("USD",) and chart.series == (("days", (Decimal("52.5"),)),)


def test_ratio_rounds_half_up_to_a_tenth() -> None:
    assert dso.ratio(Decimal(1), Decimal(3), 30) == Decimal("10.0")
    assert dso.ratio(Decimal(1), Decimal(8), 1) == Decimal("0.1")  # 0.125
    assert dso.ratio(Decimal(1), Decimal(0), 30) is None
