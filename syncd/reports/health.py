"""Automatic payment health: failed and returned payments, effects failing, held or retrying, and
credit holds, over a window of days."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syncd.domain.payments import PaymentStatus
from syncd.domain.plans import InstallmentStatus, PlanStatus
from syncd.reports.common import ChartData, Tabular, day_start
from syncd.store.effects import EffectStatus
from syncd.store.models import CreditHold, Effect, InstallmentPlan, PaymentRow, PlanInstallment

# Effect kinds are "<family>.<what>": the family is who it talks to.
FAMILIES = ("stripe", "qbo", "books", "email")
EFFECT_STATES = ("failed", "held", "retrying", "done")
PAYMENT_STATES = tuple(s.value for s in PaymentStatus)
HOLD_STATES = ("on_hold", "placed", "released")
# Installment plans: parts paid, declined and retrying, missed; plans suspended now.
INSTALLMENT_STATES = ("paid", "retrying", "missed", "suspended_plans")


@dataclass(frozen=True, slots=True)
class Measure:
    area: str  # payments, effects:<family>, credit_holds
    measure: str
    count: int


@dataclass(frozen=True, slots=True)
class Health(Tabular):
    """From ``start`` to ``end`` (the company's days, inclusive):

    - payments: the attempts started in the window, by where they stand now (``failed`` and
      ``returned`` are bank debits that did not go through: each is a strike towards a hold);
    - effects per family (Stripe, QuickBooks, books planning, email): ``failed`` (gave up, waiting
      for ``syncd failed --retry``) and ``held`` (a must-book write QBO refuses; syncd keeps
      trying) are counted now whenever they began; ``retrying`` are pending after an error;
      ``done`` were completed in the window;
    - credit holds: customers on hold now, holds placed and released in the window.

    - installments: parts of installment plans paid and missed in the window, those declined and
      waiting for a retry now, and plans suspended now (their invoice changed in QuickBooks).

    Autopay failures join here as an area of its own."""

    name: ClassVar[str] = "health"
    title: ClassVar[str] = "Payment health"
    COLUMNS: ClassVar[tuple[str, ...]] = ("area", "measure", "count")

    company_id: str
    start: date
    end: date
    measures: tuple[Measure, ...]

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def table(self) -> list[tuple[str, ...]]:
        return [(m.area, m.measure, str(m.count)) for m in self.measures]

    def count(self, area: str, measure: str) -> int:
        return next((m.count for m in self.measures if m.area == area and m.measure == measure), 0)

    def charts(self) -> list[ChartData]:
        problems = ("failed", "held", "retrying")
        return [
            ChartData(
                "Payments started, by outcome",
                PAYMENT_STATES,
                (("payments", tuple(_n(self.count("payments", s)) for s in PAYMENT_STATES)),),
            ),
            ChartData(
                "Effects needing attention, by system",
                FAMILIES,
                tuple((p, tuple(_n(self.count(f"effects:{f}", p)) for f in FAMILIES)) for p in problems),
                kind="stacked",
            ),
        ]


def _n(count: int) -> Decimal:
    return Decimal(count)


def build(session: Session, company_id: str, *, as_of: date, zone: ZoneInfo, days: int = 30) -> Health:
    """The ``days`` days ending on ``as_of``; five queries."""
    start = as_of - timedelta(days=days - 1)
    begin, until = day_start(start, zone), day_start(as_of + timedelta(days=1), zone)
    measures: list[Measure] = []

    outcomes = Counter(
        session.scalars(
            select(PaymentRow.status).where(
                PaymentRow.company_id == company_id,
                PaymentRow.created_at >= begin,
                PaymentRow.created_at < until,
            )
        )
    )
    measures += [Measure("payments", s, outcomes[s]) for s in PAYMENT_STATES]

    effects: Counter[tuple[str, str]] = Counter()
    rows = session.execute(
        select(Effect.kind, Effect.status, Effect.attempts, Effect.held_at).where(
            Effect.company_id == company_id,
            or_(
                Effect.status != EffectStatus.DONE.value,
                (Effect.done_at >= begin) & (Effect.done_at < until),
            ),
        )
    )
    for kind, status, attempts, held_at in rows:
        family = kind.split(".", 1)[0]
        if status == EffectStatus.DONE.value:
            effects[(family, "done")] += 1
        elif status == EffectStatus.FAILED.value:
            effects[(family, "failed")] += 1
        elif held_at is not None:
            effects[(family, "held")] += 1
        elif attempts > 0:
            effects[(family, "retrying")] += 1
    measures += [Measure(f"effects:{f}", s, effects[(f, s)]) for f in FAMILIES for s in EFFECT_STATES]

    holds = Counter[str]()
    for placed_at, released_at in session.execute(
        select(CreditHold.placed_at, CreditHold.released_at).where(CreditHold.company_id == company_id)
    ):
        holds["on_hold"] += released_at is None
        holds["placed"] += begin <= placed_at < until
        holds["released"] += released_at is not None and begin <= released_at < until
    measures += [Measure("credit_holds", s, holds[s]) for s in HOLD_STATES]
    measures += _installments(session, company_id, begin, until)
    return Health(company_id, start, as_of, tuple(measures))


def _installments(session: Session, company_id: str, begin: datetime, until: datetime) -> list[Measure]:
    parts = Counter[str]()
    for status, attempt, paid_at, missed_at in session.execute(
        select(
            PlanInstallment.status,
            PlanInstallment.attempt,
            PlanInstallment.paid_at,
            PlanInstallment.missed_at,
        ).where(PlanInstallment.company_id == company_id)
    ):
        parts["paid"] += paid_at is not None and begin <= paid_at < until
        parts["missed"] += missed_at is not None and begin <= missed_at < until
        parts["retrying"] += status == InstallmentStatus.SCHEDULED.value and attempt > 0
    parts["suspended_plans"] = len(
        session.scalars(
            select(InstallmentPlan.id).where(
                InstallmentPlan.company_id == company_id, InstallmentPlan.status == PlanStatus.SUSPENDED.value
            )
        ).all()
    )
    return [Measure("installments", s, parts[s]) for s in INSTALLMENT_STATES]
