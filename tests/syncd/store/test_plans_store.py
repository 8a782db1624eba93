"""Installment plans in the store, on both backends: a plan with its parts in one transaction, the
plan in force per invoice, the invoices plans hold, what the invoice page is asked to offer, and the
charge keys."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from report_rows import REALM, company, invoice

from syncd.domain.plans import Cadence, InstallmentStatus, PlanStatus, due_dates, split
from syncd.store import plans
from syncd.store.engine import Database
from syncd.store.models import PlanInstallment

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_a_plan_its_parts_and_what_it_holds(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.add(invoice("1", total="100.00"))
        made = plans.create(
            s,
            realm_id=REALM,
            customer_id="7",
            invoice_id="1",
            currency="USD",
            total=Decimal("100.00"),
            balance=Decimal("100.00"),
            amounts=split(Decimal("100.00"), Decimal("10.00"), 3, "USD"),
            dates=due_dates(date(2026, 3, 2), Cadence.WEEK, 3),
            every=Cadence.WEEK,
            now=T0,
        )
        plan_id = made.id
    with db.transaction() as s:
        found = plans.in_force(s, REALM, "1")
        assert found is not None and found.id == plan_id and found.count == 3
        assert plans.active_invoices(s, REALM) == {"1"}
        assert plans.due_by_link(s, REALM, "1") is None
        parts = plans.installments(s, plan_id)
        assert [p.amount for p in parts] == [
            Decimal("10.00"),
            Decimal("30.00"),
            Decimal("30.00"),
            Decimal("30.00"),
        ]
        assert [p.due_on for p in parts] == [
            date(2026, 3, 2),
            date(2026, 3, 9),
            date(2026, 3, 16),
            date(2026, 3, 23),
        ]
        plans.move(parts[1], InstallmentStatus.MISSED, now=T0)
        plans.move(parts[2], InstallmentStatus.LINK_SENT, now=T0)
    with db.transaction() as s:
        assert plans.due_by_link(s, REALM, "1") == Decimal("60.00")
        assert plans.installments_of(s, [plan_id])[plan_id][1].status == "missed"
        row = plans.in_force(s, REALM, "1")
        assert row is not None
        plans.move_plan(row, PlanStatus.SUSPENDED, "changed", now=T0)
    with db.transaction() as s:
        assert plans.active_invoices(s, REALM) == {"1"}  # suspended: still held from autopay and reminders
        assert plans.due_by_link(s, REALM, "1") is None  # but nothing is asked through the page
        row = plans.in_force(s, REALM, "1")
        assert row is not None
        plans.move_plan(row, PlanStatus.CANCELLED, "by staff", now=T0)
    with db.transaction() as s:
        assert plans.in_force(s, REALM, "1") is None and plans.active_invoices(s, REALM) == set()
        assert s.get(PlanInstallment, (plan_id, 3)) is not None


def test_charge_keys_round_trip() -> None:
    key = plans.charge_key(REALM, 12, 3, 2)
    assert key == f"plan:{REALM}:12:3:2"
    assert plans.parse_key(key) == (12, 3, 2)
    assert plans.parse_key("autopay:1:2:3.000:1") is None
    assert plans.parse_key("plan:1:x:3:2") is None
