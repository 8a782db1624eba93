"""Audit results per month, from syncd's own record: Stripe balance transactions and whether each
has its QuickBooks entry, and the QuickBooks writes that failed or are held."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syncd.reports.common import ZERO, ChartData, Tabular, figure, money, month_of, next_month
from syncd.store.effects import EffectStatus
from syncd.store.models import Effect, MoneyMovement

ALL = "all"


@dataclass(frozen=True, slots=True)
class AuditMonth:
    """One UTC month in one currency (or ``all`` currencies: counts only, amounts never add)."""

    month: date
    currency: str
    transactions: int
    booked: int
    stripe_net: Decimal | None
    failed_writes: int | None = None
    held_writes: int | None = None

    @property
    def without_entry(self) -> int:
        return self.transactions - self.booked


@dataclass(frozen=True, slots=True)
class Audits(Tabular):
    """Per calendar month (UTC, as ``syncd audit`` counts days) and currency: the Stripe balance
    transactions syncd recorded, how many carry the QBO entry syncd wrote for them, and their net.
    The ``all`` line of a month adds the counts and the QuickBooks writes (payments, fees,
    refunds, payouts...) created that month that failed or that QBO refuses (held).

    This reads only syncd's store, so it is instant and free; it trusts syncd's record of what it
    wrote. The proof, which also reads Stripe's balance and the clearing accounts in QuickBooks (so
    an entry nobody expected shows too), is ``syncd audit --company C --from D --to D``; run it for a
    month this report shows anything without entry, failed or held. A payout still in transit is
    without entry until it arrives."""

    name: ClassVar[str] = "audits"
    title: ClassVar[str] = "Audit results"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "month",
        "currency",
        "transactions",
        "booked",
        "without_entry",
        "stripe_net",
        "failed_writes",
        "held_writes",
    )

    company_id: str
    start: date
    end: date
    months: tuple[AuditMonth, ...]

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def table(self) -> list[tuple[str, ...]]:
        return [
            (
                m.month.strftime("%Y-%m"),
                m.currency,
                str(m.transactions),
                str(m.booked),
                str(m.without_entry),
                money(m.stripe_net, m.currency),
                figure(m.failed_writes),
                figure(m.held_writes),
            )
            for m in self.months
        ]

    def charts(self) -> list[ChartData]:
        mine = [m for m in self.months if m.currency == ALL]
        if not mine:
            return []
        return [
            ChartData(
                "Stripe transactions per month: booked and without entry",
                tuple(m.month.strftime("%Y-%m") for m in mine),
                (
                    ("booked", tuple(Decimal(m.booked) for m in mine)),
                    ("without_entry", tuple(Decimal(m.without_entry) for m in mine)),
                ),
                kind="stacked",
            ),
            ChartData(
                "QuickBooks writes needing attention per month",
                tuple(m.month.strftime("%Y-%m") for m in mine),
                (
                    ("failed", tuple(Decimal(m.failed_writes or 0) for m in mine)),
                    ("held", tuple(Decimal(m.held_writes or 0) for m in mine)),
                ),
                kind="stacked",
            ),
        ]


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def build(session: Session, company_id: str, *, start: date, end: date) -> Audits:
    """Every month touching [start, end] (whole months); two queries."""
    first, last = month_of(start), next_month(month_of(end))
    begin, until = _utc(first), _utc(last)
    count: Counter[tuple[date, str]] = Counter()
    booked: Counter[tuple[date, str]] = Counter()
    net: dict[tuple[date, str], Decimal] = {}
    for created, currency, amount, entries in session.execute(
        select(
            MoneyMovement.created, MoneyMovement.currency, MoneyMovement.net, MoneyMovement.qbo_entries
        ).where(
            MoneyMovement.company_id == company_id,
            MoneyMovement.created >= begin,
            MoneyMovement.created < until,
        )
    ):
        key = (month_of(created.date()), currency.upper())
        count[key] += 1
        booked[key] += bool(entries)
        net[key] = net.get(key, ZERO) + amount
    failed: Counter[date] = Counter()
    held: Counter[date] = Counter()
    for created, status, held_at in session.execute(
        select(Effect.created_at, Effect.status, Effect.held_at).where(
            Effect.company_id == company_id,
            Effect.kind.startswith("qbo."),
            Effect.created_at >= begin,
            Effect.created_at < until,
            or_(Effect.status == EffectStatus.FAILED.value, Effect.held_at.is_not(None)),
        )
    ):
        month = month_of(created.date())
        if status == EffectStatus.FAILED.value:
            failed[month] += 1
        elif status != EffectStatus.DONE.value and held_at is not None:
            held[month] += 1
    months: list[AuditMonth] = []
    month = first
    while month < last:
        currencies = sorted(c for m, c in count if m == month)
        for currency in currencies:
            key = (month, currency)
            months.append(AuditMonth(month, currency, count[key], booked[key], net[key]))
        months.append(
            AuditMonth(
                month,
                ALL,
                sum(count[(month, c)] for c in currencies),
                sum(booked[(month, c)] for c in currencies),
                None,
                failed[month],
                held[month],
            )
        )
        month = next_month(month)
    return Audits(company_id, first, last - timedelta(days=1), tuple(months))
