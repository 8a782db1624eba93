"""What every report shares: the company's "today", periods, and the table, CSV and JSON
shapes the CLI and the web page render through."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from syncd.domain.invoices import InvoiceStatus
from syncd.domain.money import display_exponent
from syncd.errors import ConfigError
from syncd.store.models import Company

# What is still owed: QBO's open and partly paid invoices (their balance is what is owed).
OWED = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ChartData:
    """A chart's title, its category labels and its named series (values in label order); one
    chart per currency, since amounts in two currencies never add."""

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[Decimal, ...]], ...]
    kind: str = "bar"  # bar (series side by side), stacked, or line

    def __post_init__(self) -> None:
        if self.kind not in ("bar", "stacked", "line"):
            raise ValueError(f"unknown chart kind {self.kind!r}")
        for name, values in self.series:
            if len(values) != len(self.labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.labels)} labels")


class Tabular:
    """What every report dataclass gets: JSON that is its table plus its parameters.

    A report defines ``name``, ``title``, ``COLUMNS``, ``table()``, ``params()``, ``charts()`` and
    ``notes``; the CSV and the JSON are both built from ``table()``, so they cannot disagree."""

    name: ClassVar[str]
    title: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    company_id: str

    def header(self) -> tuple[str, ...]:
        """The column names (a report whose columns depend on its data overrides this)."""
        return self.COLUMNS

    def table(self) -> list[tuple[str, ...]]:
        raise NotImplementedError

    def params(self) -> dict[str, str]:
        raise NotImplementedError

    def charts(self) -> list[ChartData]:
        raise NotImplementedError

    def notes(self) -> tuple[str, ...]:
        return ()

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "company": self.company_id,
            **self.params(),
            "columns": list(self.header()),
            "rows": [dict(zip(self.header(), row, strict=True)) for row in self.table()],
            "notes": list(self.notes()),
        }

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header())
        writer.writerows(self.table())
        return out.getvalue()


def company_zone(session: Session, company_id: str, configured: str | None) -> ZoneInfo:
    """The zone that decides the company's "today": the configured one, else QBO's, else UTC."""
    name = configured
    if not name:
        row = session.get(Company, company_id)
        name = row.timezone if row is not None and row.timezone else "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("companies.timezone", f"unknown timezone {name!r}") from exc


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    """The company's calendar day at ``instant`` (aware UTC)."""
    return instant.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant the company's ``day`` begins."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week (ISO weeks)."""
    return day - timedelta(days=day.weekday())


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def figure(value: Decimal | int | None) -> str:
    """A count or a ratio as the CSV and JSON carry it, blank when there is none."""
    return "" if value is None else str(value)


@functools.cache
def _digits(currency: str) -> tuple[Decimal, int]:
    exponent = display_exponent(currency)
    return Decimal(1).scaleb(-exponent), exponent


def money(value: Decimal | None, currency: str) -> str:
    """An amount as the CSV and JSON carry it: the currency's digits rounded half up, no grouping
    (``1234.50``), the same from either database; blank when there is none. (Big tables call this
    per cell, hence the cached digits.)"""
    if value is None:
        return ""
    quantum, exponent = _digits(currency)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):.{exponent}f}"
