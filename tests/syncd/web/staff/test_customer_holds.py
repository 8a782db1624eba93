"""The console's customer page lists the customer's card authorisations (amount, state, placed,
release time, the invoice a capture paid)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from staff_console import A, seed_company, signed_in

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store.models import CardAuthorizationRow


def _hold(ctx: Context, ident: str, status: str, captured: Decimal | None = None) -> None:
    now = ctx.clock()
    with ctx.db.transaction() as s:
        s.add(
            CardAuthorizationRow(
                id=ident,
                company_id=A,
                customer_id="c1",
                amount=Decimal("150.00"),
                currency="USD",
                note="Remote session <b>Friday</b>",
                status=status,
                payment_method_id="pm_1",
                stripe_customer_id="cus_1",
                known_invoice_ids=[],
                placed_on=now.date(),
                release_at=now + timedelta(days=6),
                invoice_id="3" if captured else None,
                captured_amount=captured,
                placed_at=now,
                captured_at=now if captured else None,
                updated_at=now,
            )
        )


def test_the_customer_page_shows_holds(ctx: Context) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    assert "No card holds" in client.get(f"/staff/c/{A}/customers/c1").text
    _hold(ctx, "auth_held", "held")
    _hold(ctx, "auth_paid", "captured", Decimal("90.00"))
    page = client.get(f"/staff/c/{A}/customers/c1")
    assert page.status_code == 200
    assert 'data-hold="auth_held"' in page.text and "released by" in page.text
    assert "$90.00 paid invoice INV-3" in page.text
    assert "&lt;b&gt;Friday&lt;/b&gt;" in page.text
