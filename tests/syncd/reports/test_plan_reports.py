"""The reports' installment-plan parts: the forecast counts an active plan's open installments on
their days (and not its invoice's balance on the due date again); payment health counts parts paid,
retrying and missed, and plans suspended."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from report_rows import REALM, company, invoice

from syncd.domain.plans import Cadence, InstallmentStatus, PlanStatus, due_dates, split
from syncd.reports import forecast, health
from syncd.store import plans
from syncd.store.engine import Database
from syncd.store.models import InstallmentPlan, PlanInstallment

AS_OF = date(2026, 3, 2)
T0 = datetime(2026, 2, 20, 15, tzinfo=UTC)
D = Decimal


def _plan(db: Database, invoice_id: str, start: date) -> int:
    with db.transaction() as s:
        made = plans.create(
            s,
            realm_id=REALM,
            customer_id="7",
            invoice_id=invoice_id,
            currency="USD",
            total=D("100.00"),
            balance=D("100.00"),
            amounts=split(D("100.00"), D("10.00"), 3, "USD"),
            dates=due_dates(start, Cadence.WEEK, 3),
            every=Cadence.WEEK,
            now=T0,
        )
        return made.id


def test_forecast_counts_each_open_installment_on_its_day_once(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.add(invoice("1", total="100.00", due=date(2026, 3, 3)))  # in a plan: not on its due date
        s.add(invoice("2", total="50.00", due=date(2026, 3, 3)))
    plan_id = _plan(db, "1", date(2026, 2, 23))  # parts on Feb 23, Mar 2, Mar 9, Mar 16
    with db.transaction() as s:
        down = s.get(PlanInstallment, (plan_id, 0))
        missed = s.get(PlanInstallment, (plan_id, 1))
        assert down is not None and missed is not None
        down.status = InstallmentStatus.PAID.value
        missed.status = InstallmentStatus.MISSED.value  # due Mar 2, not paid: counted that week
        retried = s.get(PlanInstallment, (plan_id, 2))
        assert retried is not None
        retried.charge_on = date(2026, 3, 11)  # a retry's day, not its due date
    with db.transaction() as s:
        report = forecast.build(s, REALM, as_of=AS_OF)
    assert report.sources == ("due_dates", "installments")
    usd = [row for row in report.table() if row[1] == "USD"]
    assert usd[:3] == [
        ("2026-03-02", "USD", "50.00", "30.00", "80.00"),
        ("2026-03-09", "USD", "0.00", "30.00", "30.00"),
        ("2026-03-16", "USD", "0.00", "30.00", "30.00"),
    ]
    with db.transaction() as s:
        row = s.get(InstallmentPlan, plan_id)
        assert row is not None
        plans.move_plan(row, PlanStatus.SUSPENDED, "changed", now=T0)
    with db.transaction() as s:
        report = forecast.build(s, REALM, as_of=AS_OF)
    # A suspended plan expects nothing on its days: its invoice counts on its due date again.
    assert next(r for r in report.table() if r[1] == "USD") == (
        "2026-03-02",
        "USD",
        "150.00",
        "0.00",
        "150.00",
    )


def test_health_counts_installments_paid_retrying_missed_and_plans_suspended(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.add(invoice("1", total="100.00"))
        s.add(invoice("2", total="100.00"))
    first, second = _plan(db, "1", date(2026, 2, 2)), _plan(db, "2", date(2026, 2, 2))
    with db.transaction() as s:
        rows = {(r.plan_id, r.seq): r for r in s.query(PlanInstallment)}
        rows[(first, 0)].status, rows[(first, 0)].paid_at = "paid", datetime(2026, 2, 2, 15, tzinfo=UTC)
        rows[(first, 1)].status, rows[(first, 1)].missed_at = "missed", datetime(2026, 2, 9, 15, tzinfo=UTC)
        rows[(first, 2)].attempt = 1  # declined once, waiting for its retry
        rows[(second, 0)].status, rows[(second, 0)].paid_at = (
            "paid",
            datetime(2026, 1, 2, tzinfo=UTC),
        )  # before
        plan = s.get(InstallmentPlan, second)
        assert plan is not None
        plans.move_plan(plan, PlanStatus.SUSPENDED, "changed", now=T0)
    with db.transaction() as s:
        report = health.build(s, REALM, as_of=date(2026, 3, 1), zone=ZoneInfo("America/New_York"), days=30)
    got = {m.measure: m.count for m in report.measures if m.area == "installments"}
    assert got == {"paid": 1, "retrying": 1, "missed": 1, "suspended_plans": 1}
    assert ("installments", "missed", "1") in report.table()
