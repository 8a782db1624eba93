"""Forecast: open balances by the week they fall due over the next 8 weeks, overdue apart, per
currency and per source; a new source (instalment plans, autopay) is one more class."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from report_rows import REALM, company, invoice
from sqlalchemy.orm import Session

from syncd.reports import forecast
from syncd.reports.forecast import Expected
from syncd.store.engine import Database

AS_OF = date(2026, 3, 2)
D = Decimal


class Instalments:
    name = "instalments"

    def expected(self, session: Session, company_id: str, *, until: date) -> Iterable[Expected]:
        yield Expected(date(2026, 3, 10), "USD", D("1.50"))
        yield Expected(date(2026, 6, 1), "USD", D("99.00"))  # beyond the horizon


def test_weeks_overdue_and_sources(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.add_all(
            [
                invoice("1", total="10.00", due=date(2026, 3, 2)),  # week 1, first day
                invoice("2", total="20.00", due=date(2026, 3, 8)),  # week 1, last day
                invoice("3", total="30.00", due=date(2026, 3, 9)),  # week 2
                invoice("4", total="40.00", due=date(2026, 4, 26)),  # day 55: week 8
                invoice("5", total="41.00", due=date(2026, 4, 27)),  # day 56: after the 8 weeks
                invoice("6", total="5.00", due=date(2026, 2, 20)),  # overdue
                invoice("7", total="100.00", balance="7.50", status="partial", due=date(2026, 3, 20)),
                invoice("8", total="9.00", balance="0.00", status="paid", due=date(2026, 3, 3)),
                invoice("9", total="8.00", currency="EUR", due=date(2026, 3, 3)),
            ]
        )
    with db.transaction() as s:
        report = forecast.build(s, REALM, as_of=AS_OF, sources=(forecast.DueDates(), Instalments()))
    assert report.header() == ("week", "currency", "due_dates", "instalments", "total")
    usd = [row for row in report.table() if row[1] == "USD"]
    assert usd == [
        ("overdue", "USD", "5.00", "0.00", "5.00"),
        ("2026-03-02", "USD", "30.00", "0.00", "30.00"),
        ("2026-03-09", "USD", "30.00", "1.50", "31.50"),
        ("2026-03-16", "USD", "7.50", "0.00", "7.50"),
        ("2026-03-23", "USD", "0.00", "0.00", "0.00"),
        ("2026-03-30", "USD", "0.00", "0.00", "0.00"),
        ("2026-04-06", "USD", "0.00", "0.00", "0.00"),
        ("2026-04-13", "USD", "0.00", "0.00", "0.00"),
        ("2026-04-20", "USD", "40.00", "0.00", "40.00"),
    ]
    eur = [row for row in report.table() if row[1] == "EUR"]
    assert eur[0] == ("2026-03-02", "EUR", "8.00", "0.00", "8.00") and len(eur) == 8
    charts = report.charts()
    assert [c.title for c in charts] == ["Expected cash per week (EUR)", "Expected cash per week (USD)"]
    assert len(charts[1].labels) == 8  # the overdue line is in the table, not the weekly chart


def test_default_sources_are_due_dates_and_installments(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.flush()
        s.add(invoice("1", total="10.00", due=date(2026, 3, 4)))
    with db.transaction() as s:
        report = forecast.build(s, REALM, as_of=AS_OF)
    assert report.sources == ("due_dates", "installments")
    assert report.to_json()["rows"][0] == {
        "week": "2026-03-02",
        "currency": "USD",
        "due_dates": "10.00",
        "installments": "0.00",
        "total": "10.00",
    }
