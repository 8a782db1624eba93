"""Cash-flow forecast: the money expected in each of the next weeks, from a list of sources."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from syncd.domain.plans import InstallmentStatus, PlanStatus
from syncd.reports.common import OWED, ZERO, ChartData, Tabular, money
from syncd.store.models import InstallmentPlan, InvoiceRow, PlanInstallment

WEEKS = 8
OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Expected:
    """Money a source expects on a day (a day before the forecast starts: already overdue)."""

    day: date
    currency: str
    amount: Decimal


class ForecastSource(Protocol):
    """Something that expects money: open invoices by due date, installment plans' installments;
    autopay schedules add a source (one class with a ``name`` and ``expected``)."""

    name: str

    def expected(self, session: Session, company_id: str, *, until: date) -> Iterable[Expected]:
        """Every amount expected on or before ``until``; amounts another source already counts
        (an instalment's invoice) must not be counted twice."""
        ...


def _planned(company_id: str) -> Select[str]:
    """The invoices an active installment plan pays (the installments source counts those)."""
    return select(InstallmentPlan.invoice_id).where(
        InstallmentPlan.company_id == company_id, InstallmentPlan.status == PlanStatus.ACTIVE.value
    )


class DueDates:
    """Open invoices' balances on their due dates (their date when they have none), but for those
    an active installment plan pays."""

    name = "due_dates"

    def expected(self, session: Session, company_id: str, *, until: date) -> Iterable[Expected]:
        rows = session.execute(
            select(InvoiceRow.due_date, InvoiceRow.txn_date, InvoiceRow.currency, InvoiceRow.balance).where(
                InvoiceRow.company_id == company_id,
                InvoiceRow.status.in_(OWED),
                InvoiceRow.qbo_id.not_in(_planned(company_id)),
            )
        )
        for due, txn_date, currency, balance in rows:
            day = due or txn_date
            if balance > 0 and day <= until:
                yield Expected(day, currency, balance)


class Installments:
    """The open installments of active plans, each on the day it is next charged or was due (a
    missed one, or one waiting on its link since before the forecast starts, is overdue)."""

    name = "installments"

    def expected(self, session: Session, company_id: str, *, until: date) -> Iterable[Expected]:
        rows = session.execute(
            select(PlanInstallment.status, PlanInstallment.due_on, PlanInstallment.charge_on)
            .add_columns(PlanInstallment.currency, PlanInstallment.amount)
            .join(InstallmentPlan, InstallmentPlan.id == PlanInstallment.plan_id)
            .where(
                InstallmentPlan.company_id == company_id,
                InstallmentPlan.status == PlanStatus.ACTIVE.value,
                PlanInstallment.status.not_in(_SETTLED),
            )
        )
        for status, due_on, charge_on, currency, amount in rows:
            day = charge_on if status == InstallmentStatus.SCHEDULED.value else due_on
            if day <= until:
                yield Expected(day, currency, amount)


_SETTLED = (InstallmentStatus.PAID.value, InstallmentStatus.CANCELLED.value)
SOURCES: tuple[ForecastSource, ...] = (DueDates(), Installments())


@dataclass(frozen=True, slots=True)
class Week:
    """What is expected in one week (or, with ``start`` None, what is already overdue)."""

    start: date | None
    currency: str
    by_source: tuple[Decimal, ...]

    @property
    def total(self) -> Decimal:
        return sum(self.by_source, ZERO)


@dataclass(frozen=True, slots=True)
class Forecast(Tabular):
    """Expected cash per week for the next weeks from ``as_of`` (week 1 is ``as_of`` and the six
    days after it), per currency and per source. What fell due before ``as_of`` and is still open
    is the ``overdue`` line: it is owed but nobody can say which week it comes in. A forecast says
    what is due, not what customers will do."""

    name: ClassVar[str] = "forecast"
    title: ClassVar[str] = "Cash-flow forecast"

    company_id: str
    as_of: date
    sources: tuple[str, ...]
    weeks: tuple[Week, ...]

    def header(self) -> tuple[str, ...]:
        return ("week", "currency", *self.sources, "total")

    def params(self) -> dict[str, str]:
        return {"as_of": self.as_of.isoformat()}

    def table(self) -> list[tuple[str, ...]]:
        return [
            (
                w.start.isoformat() if w.start else OVERDUE,
                w.currency,
                *(money(v, w.currency) for v in w.by_source),
                money(w.total, w.currency),
            )
            for w in self.weeks
        ]

    def charts(self) -> list[ChartData]:
        charts = []
        for currency in sorted({w.currency for w in self.weeks}):
            mine = [w for w in self.weeks if w.currency == currency and w.start is not None]
            charts.append(
                ChartData(
                    f"Expected cash per week ({currency})",
                    tuple(w.start.isoformat() for w in mine if w.start is not None),
                    tuple((s, tuple(w.by_source[i] for w in mine)) for i, s in enumerate(self.sources)),
                    kind="stacked",
                )
            )
        return charts


def build(
    session: Session,
    company_id: str,
    *,
    as_of: date,
    weeks: int = WEEKS,
    sources: Sequence[ForecastSource] = SOURCES,
) -> Forecast:
    until = as_of + timedelta(days=7 * weeks - 1)
    sums: dict[tuple[int, str], list[Decimal]] = {}
    for index, source in enumerate(sources):
        for item in source.expected(session, company_id, until=until):
            if item.day > until:
                continue
            week = -1 if item.day < as_of else (item.day - as_of).days // 7
            sums.setdefault((week, item.currency), [ZERO] * len(sources))[index] += item.amount
    rows = []
    for currency in sorted({c for _, c in sums}):
        if (-1, currency) in sums:
            rows.append(Week(None, currency, tuple(sums[(-1, currency)])))
        for week in range(weeks):
            values = sums.get((week, currency), [ZERO] * len(sources))
            rows.append(Week(as_of + timedelta(days=7 * week), currency, tuple(values)))
    return Forecast(company_id, as_of, tuple(s.name for s in sources), tuple(rows))
