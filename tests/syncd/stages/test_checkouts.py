"""The order of replacing a Checkout Session: the new one is handed out only once the old one is
known expired, whatever fails in between."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from loop_harness import running_loop
from sqlalchemy import select

from syncd.errors import TransientError
from syncd.stages import checkouts
from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle
from syncd.store.models import InvoiceRow, PaymentRow


def test_the_new_session_waits_until_stripe_has_expired_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkouts, "WAIT_SECONDS", 2.0)
    with running_loop(tmp_path, allow_partial=True) as loop:
        run_cycle(loop.ctx, loop.realm)
        with loop.ctx.db.transaction() as s:
            invoice = s.scalars(
                select(InvoiceRow).where(InvoiceRow.status == "open", InvoiceRow.currency == "USD")
            ).first()
            assert invoice is not None and invoice.balance > 30
            invoice_id = invoice.qbo_id
        token = loop.ctx.links.token(loop.realm, invoice_id)
        portal = PortalService(loop.ctx)
        old = portal.start_payment(token, Decimal("10.00")).rsplit("/", 1)[-1]

        loop.stripe.faults.error_rate = 1.0  # Stripe answers nothing but 500s
        with pytest.raises(TransientError):
            portal.start_payment(token, Decimal("20.00"))
        sessions = {s["id"]: s["status"] for s in loop.stripe.objects("checkout.session")}
        assert sessions == {old: "open"}  # no second session was made while the first is payable

        loop.stripe.faults.reset()
        new = portal.start_payment(token, Decimal("20.00")).rsplit("/", 1)[-1]
        sessions = {s["id"]: s["status"] for s in loop.stripe.objects("checkout.session")}
        assert sessions == {old: "expired", new: "open"}
        with loop.ctx.db.transaction() as s:
            rows = sorted((p.amount, p.status) for p in s.scalars(select(PaymentRow)))
        assert rows == [(Decimal("10.00"), "expired"), (Decimal("20.00"), "open")]
