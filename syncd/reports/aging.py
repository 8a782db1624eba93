"""AR aging: what each customer owes, in buckets of days past due as of a day, per currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.reports.common import OWED, ZERO, ChartData, Tabular, money
from syncd.store.models import InvoiceRow

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
TOTAL = "TOTAL"


def bucket_of(due: date, as_of: date) -> int:
    """The bucket index of an invoice due on ``due``: current until the day after it is due."""
    late = (as_of - due).days
    if late <= 0:
        return 0
    if late <= 30:
        return 1
    if late <= 60:
        return 2
    if late <= 90:
        return 3
    return 4


@dataclass(frozen=True, slots=True)
class AgingLine:
    """One customer's (or, with ``customer_id`` empty, the company's) open balance by bucket."""

    currency: str
    customer_id: str
    customer: str
    buckets: tuple[Decimal, ...]
    invoices: int

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass(frozen=True, slots=True)
class Aging(Tabular):
    """Open balances (QBO's balance, so partial payments count for what is left) as of a day.

    An invoice is "current" up to and including its due date (its date when it has none); then
    1-30, 31-60, 61-90 and 90+ days past due. ``as_of`` is the company's local day. An ``as_of``
    in the past still uses today's balances: the mirror keeps no history of them."""

    name: ClassVar[str] = "aging"
    title: ClassVar[str] = "Accounts receivable aging"
    COLUMNS: ClassVar[tuple[str, ...]] = ("currency", "customer_id", "customer", *BUCKETS, "total")

    company_id: str
    as_of: date
    customers: tuple[AgingLine, ...]
    totals: tuple[AgingLine, ...]

    def params(self) -> dict[str, str]:
        return {"as_of": self.as_of.isoformat()}

    def table(self) -> list[tuple[str, ...]]:
        rows = []
        for line in (*self.customers, *self.totals):
            rows.append(
                (
                    line.currency,
                    line.customer_id,
                    line.customer,
                    *(money(v, line.currency) for v in line.buckets),
                    money(line.total, line.currency),
                )
            )
        return rows

    def total(self, currency: str) -> AgingLine | None:
        return next((t for t in self.totals if t.currency == currency), None)

    def charts(self) -> list[ChartData]:
        return [
            ChartData(f"Open balance by days past due ({t.currency})", BUCKETS, ((t.currency, t.buckets),))
            for t in self.totals
        ]


def build(session: Session, company_id: str, *, as_of: date) -> Aging:
    """One query: every open invoice's customer, currency, due date and balance (plain rows, not
    ORM objects: a big company has tens of thousands)."""
    rows = session.connection().execute(
        select(
            InvoiceRow.currency,
            InvoiceRow.customer_id,
            InvoiceRow.customer_name,
            InvoiceRow.due_date,
            InvoiceRow.txn_date,
            InvoiceRow.balance,
        ).where(
            InvoiceRow.company_id == company_id,
            InvoiceRow.status.in_(OWED),
            InvoiceRow.txn_date <= as_of,
        )
    )
    sums: dict[tuple[str, str], list[Decimal]] = {}
    names: dict[tuple[str, str], str] = {}
    counts: dict[tuple[str, str], int] = {}
    for currency, customer_id, customer_name, due, txn_date, balance in rows:
        if balance <= 0:
            continue
        key = (currency, customer_id)
        buckets = sums.setdefault(key, [ZERO] * len(BUCKETS))
        buckets[bucket_of(due or txn_date, as_of)] += balance
        names.setdefault(key, customer_name)
        counts[key] = counts.get(key, 0) + 1
    customers = tuple(
        AgingLine(cur, cid, names[(cur, cid)], tuple(sums[(cur, cid)]), counts[(cur, cid)])
        for cur, cid in sorted(sums, key=lambda k: (k[0], names[k].casefold(), k[1]))
    )
    totals = []
    for currency in sorted({c for c, _ in sums}):
        mine = [line for line in customers if line.currency == currency]
        total = tuple(sum((line.buckets[i] for line in mine), ZERO) for i in range(len(BUCKETS)))
        totals.append(AgingLine(currency, "", TOTAL, total, sum(line.invoices for line in mine)))
    return Aging(company_id, as_of, customers, tuple(totals))
