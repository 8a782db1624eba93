"""The console's customer page shows the customer's installment plans with their schedule and
status, including one suspended and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from staff_console import A, seed_company, signed_in

from syncd.context import Context
from syncd.domain.plans import Cadence, PlanStatus, due_dates, split
from syncd.domain.staff import StaffRole
from syncd.store import plans
from syncd.store.models import InstallmentPlan


def test_customer_page_shows_each_plan_with_its_schedule_and_status(ctx: Context) -> None:
    seed_company(ctx, A, invoices=3)
    with ctx.db.transaction() as s:
        for invoice_id in ("2", "3"):
            plans.create(
                s,
                realm_id=A,
                customer_id="c1",
                invoice_id=invoice_id,
                currency="USD",
                total=Decimal("100.00"),
                balance=Decimal("100.00"),
                amounts=split(Decimal("100.00"), Decimal("10.00"), 3, "USD"),
                dates=due_dates(date(2026, 12, 1), Cadence.MONTH, 3),
                every=Cadence.MONTH,
                now=ctx.clock(),
            )
        suspended = s.get(InstallmentPlan, 2)
        assert suspended is not None
        plans.move_plan(
            suspended, PlanStatus.SUSPENDED, "the invoice was changed in QuickBooks", now=ctx.clock()
        )
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    page = client.get(f"/staff/c/{A}/customers/c1")
    assert page.status_code == 200
    text = page.text
    assert "Installment plans" in text and "Plan 1" in text and "invoice INV-2" in text
    assert "Down payment" in text and "Installment 3" in text and "$30.00" in text
    assert "the invoice was changed in QuickBooks" in text and "suspended" in text
    assert "syncd plan cancel 2" in text
