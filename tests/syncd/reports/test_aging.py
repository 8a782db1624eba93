"""AR aging: hand-computed buckets on a seeded store, bucket boundaries, the company's midnight,
several currencies and partial payments; the CSV and JSON carry exactly the table."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from report_rows import REALM, company, invoice

from syncd.errors import ConfigError
from syncd.reports import aging
from syncd.reports.common import company_zone, local_day
from syncd.store.engine import Database

AS_OF = date(2026, 3, 1)
D = Decimal


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.transaction() as s:
        s.add(company())
        s.add_all(
            [
                invoice("1", total="100.00", due=date(2026, 3, 1)),  # due today: current
                invoice("2", total="1.01", due=date(2026, 2, 28)),  # 1 day late
                invoice("3", total="2.02", due=date(2026, 1, 30)),  # 30 days: still 1-30
                invoice("4", total="3.03", due=date(2026, 1, 29)),  # 31: 31-60
                invoice("5", total="4.04", due=date(2025, 12, 31)),  # 60: 31-60
                invoice("6", total="5.05", due=date(2025, 12, 30)),  # 61: 61-90
                invoice("7", total="6.06", due=date(2025, 12, 1)),  # 90: 61-90
                invoice("8", total="7.07", due=date(2025, 11, 30)),  # 91: 90+
                # partly paid: only the balance is owed
                invoice("9", total="200.00", balance="50.25", due=date(2026, 3, 5), status="partial"),
                invoice("10", total="9.00", txn=date(2026, 2, 10)),  # no due date: its date, 19 days
                invoice("11", total="40.00", balance="0", status="paid", due=date(2025, 1, 1)),
                invoice("12", total="41.00", status="voided", due=date(2025, 1, 1)),
                invoice("13", total="42.00", txn=date(2026, 3, 2), due=date(2026, 3, 2)),  # after as_of
                invoice("20", customer="9", name="Acme", total="10.00", due=date(2026, 2, 1)),  # 28
                invoice(
                    "30", customer="8", name="Old Mill", currency="EUR", total="75.50", due=date(2026, 2, 1)
                ),
                invoice(
                    "31", customer="8", name="Old Mill", currency="EUR", total="0.45", due=date(2025, 10, 1)
                ),
            ]
        )
    return db


def test_buckets_by_customer_and_total_per_currency(seeded: Database) -> None:
    with seeded.transaction() as s:
        report = aging.build(s, REALM, as_of=AS_OF)
    by = {(line.currency, line.customer_id): line for line in report.customers}
    assert by[("USD", "7")].buckets == (D("150.25"), D("12.03"), D("7.07"), D("11.11"), D("7.07"))
    assert by[("USD", "7")].invoices == 10
    assert by[("USD", "9")].buckets == (0, D("10.00"), 0, 0, 0)
    assert by[("EUR", "8")].buckets == (0, D("75.50"), 0, 0, D("0.45"))
    usd, eur = report.total("USD"), report.total("EUR")
    assert usd is not None and eur is not None
    assert usd.buckets == (D("150.25"), D("22.03"), D("7.07"), D("11.11"), D("7.07"))
    assert usd.total == D("197.53")
    assert eur.total == D("75.95")  # never added to dollars
    assert [line.customer for line in report.customers] == ["Old Mill", "Acme", "Blue Bottle Bakery"]


def test_bucket_boundaries() -> None:
    day = date(2026, 3, 1)
    cases = {0: 0, 1: 1, 30: 1, 31: 2, 60: 2, 61: 3, 90: 3, 91: 4, 400: 4, -5: 0}
    for late, bucket in cases.items():
        assert aging.bucket_of(date.fromordinal(day.toordinal() - late), day) == bucket, late


def test_the_companys_midnight_decides_today(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.add(invoice("1", total="10.00", due=date(2026, 2, 28)))
    zone = ZoneInfo("America/New_York")
    before = datetime(2026, 3, 1, 4, 59, tzinfo=UTC)  # 23:59 on Feb 28 in New York
    after = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # midnight, March 1 there
    with db.transaction() as s:
        assert company_zone(s, REALM, None) == zone  # QBO's zone when none is configured
        assert company_zone(s, REALM, "Europe/Berlin") == ZoneInfo("Europe/Berlin")
        late_night = aging.build(s, REALM, as_of=local_day(before, zone))
        next_day = aging.build(s, REALM, as_of=local_day(after, zone))
    assert late_night.as_of == date(2026, 2, 28)
    assert late_night.totals[0].buckets[0] == D("10.00")  # due today: current
    assert next_day.totals[0].buckets[1] == D("10.00")  # one day past due


def test_csv_and_json_are_the_table(seeded: Database) -> None:
    with seeded.transaction() as s:
        report = aging.build(s, REALM, as_of=AS_OF)
    table = report.table()
    parsed = list(csv.reader(io.StringIO(report.csv())))
    assert parsed[0] == list(report.header())
    assert [tuple(r) for r in parsed[1:]] == table
    data = report.to_json()
    assert data["as_of"] == "2026-03-01" and data["report"] == "aging"
    assert [tuple(r[c] for c in report.header()) for r in data["rows"]] == table
    totals = [r for r in data["rows"] if r["customer"] == aging.TOTAL]
    assert [(r["currency"], r["total"]) for r in totals] == [("EUR", "75.95"), ("USD", "197.53")]


def test_empty_company_has_no_lines(db: Database) -> None:
    with db.transaction() as s:
        report = aging.build(s, REALM, as_of=AS_OF)
    assert report.table() == [] and report.charts() == []


def test_an_unknown_zone_is_named(db: Database) -> None:
    with db.transaction() as s:
        s.add(company(timezone="Mars/Olympus_Mons"))
    with db.transaction() as s, pytest.raises(ConfigError, match="unknown timezone 'Mars/Olympus_Mons'"):
        company_zone(s, REALM, None)
