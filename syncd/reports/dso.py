"""Days sales outstanding over a period, per currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.invoices import InvoiceStatus
from syncd.reports.common import OWED, ZERO, ChartData, Tabular, figure, money
from syncd.store.models import InvoiceRow

TENTH = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class DsoLine:
    currency: str
    receivables: Decimal  # owed at the end of the period
    credit_sales: Decimal  # invoiced during the period
    dso: Decimal | None  # None when nothing was invoiced: the ratio has no meaning


@dataclass(frozen=True, slots=True)
class Dso(Tabular):
    """The standard (period-end) formula: DSO = receivables at the end of the period / credit
    sales of the period x days in the period, rounded to a tenth of a day.

    Receivables are the open balances of invoices dated up to the end of the period; credit sales
    are the totals of the invoices dated in the period (voided and deleted ones excluded; every
    QBO invoice is a credit sale). Balances are today's (the mirror keeps no history), so a period
    ending in the past reads a lower receivable than it had then."""

    name: ClassVar[str] = "dso"
    title: ClassVar[str] = "Days sales outstanding"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "currency",
        "from",
        "to",
        "days",
        "receivables",
        "credit_sales",
        "dso",
    )

    company_id: str
    start: date
    end: date
    lines: tuple[DsoLine, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def table(self) -> list[tuple[str, ...]]:
        return [
            (
                line.currency,
                self.start.isoformat(),
                self.end.isoformat(),
                str(self.days),
                money(line.receivables, line.currency),
                money(line.credit_sales, line.currency),
                figure(line.dso),
            )
            for line in self.lines
        ]

    def charts(self) -> list[ChartData]:
        shown = [line for line in self.lines if line.dso is not None]
        if not shown:
            return []
        return [
            ChartData(
                "Days sales outstanding by currency",
                tuple(line.currency for line in shown),
                (("days", tuple(line.dso for line in shown if line.dso is not None)),),
            )
        ]


def ratio(receivables: Decimal, sales: Decimal, days: int) -> Decimal | None:
    if sales <= 0:
        return None
    return (receivables / sales * days).quantize(TENTH, rounding=ROUND_HALF_UP)


def build(session: Session, company_id: str, *, as_of: date, days: int = 90) -> Dso:
    """The ``days`` days ending on ``as_of`` (inclusive); one query."""
    if days < 1:
        raise ValueError("a DSO period is at least one day")
    start = as_of - timedelta(days=days - 1)
    rows = session.execute(
        select(
            InvoiceRow.currency, InvoiceRow.txn_date, InvoiceRow.total, InvoiceRow.balance, InvoiceRow.status
        ).where(
            InvoiceRow.company_id == company_id,
            InvoiceRow.txn_date <= as_of,
            InvoiceRow.status.not_in([InvoiceStatus.VOIDED.value, InvoiceStatus.DELETED.value]),
        )
    )
    owed: dict[str, Decimal] = {}
    sales: dict[str, Decimal] = {}
    for currency, txn_date, total, balance, status in rows:
        if status in OWED:
            owed[currency] = owed.get(currency, ZERO) + balance
        if txn_date >= start:
            sales[currency] = sales.get(currency, ZERO) + total
    lines = tuple(
        DsoLine(c, owed.get(c, ZERO), sales.get(c, ZERO), ratio(owed.get(c, ZERO), sales.get(c, ZERO), days))
        for c in sorted(owed.keys() | sales.keys())
    )
    return Dso(company_id, start, as_of, lines)
