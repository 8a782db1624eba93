"""Payment paths over both simulators: ACH, partial payments, declines, webhook disorder, backfill."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from loop_harness import Loop, running_loop
from sqlalchemy import select

from syncd.domain.payments import PaymentStatus
from syncd.errors import PermanentError
from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle
from syncd.stages.events import backfill, ingest
from syncd.store.models import InvoiceRow, PaymentRow


def _first_open(loop: Loop) -> InvoiceRow:
    with loop.ctx.db.transaction() as s:
        rows = s.scalars(
            select(InvoiceRow).where(InvoiceRow.status == "open", InvoiceRow.currency == "USD")
        ).all()
        return next(r for r in rows if r.email)


def _payment(loop: Loop) -> PaymentRow:
    with loop.ctx.db.transaction() as s:
        return s.scalars(select(PaymentRow).order_by(PaymentRow.created_at.desc())).first()  # type: ignore[return-value]


def _qbo_payments_for(loop: Loop, invoice_id: str) -> list[dict]:  # type: ignore[type-arg]
    return [
        p
        for p in loop.qbo.entities("Payment")
        if any(
            lt.get("TxnId") == invoice_id for line in p.get("Line", []) for lt in line.get("LinkedTxn", [])
        )
    ]


def _settle(loop: Loop) -> None:
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    loop.drain()


def _pay(loop: Loop, invoice: InvoiceRow, outcome: str, amount: Decimal | None = None) -> str:
    token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
    PortalService(loop.ctx).start_payment(token, amount)
    session_id = _payment(loop).checkout_session_id
    assert session_id is not None
    loop.stripe.pay_checkout(session_id, outcome)
    _settle(loop)
    return token


def test_ach_is_processing_until_it_settles(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        invoice = _first_open(loop)
        token = _pay(loop, invoice, "ach_success")
        view = PortalService(loop.ctx).invoice(token)
        assert view is not None and view.payment_state.value == "processing"
        assert _qbo_payments_for(loop, invoice.qbo_id) == []  # processing is not paid
        with pytest.raises(PermanentError, match="already processing"):
            PortalService(loop.ctx).start_payment(token, None)
        loop.stripe.clock.advance(timedelta(days=7))
        _settle(loop)
        assert _payment(loop).status == PaymentStatus.SUCCEEDED.value
        assert len(_qbo_payments_for(loop, invoice.qbo_id)) == 1
        subjects = [m.subject for m in loop.sink.mailbox.all()]
        assert any("rocessing" in s for s in subjects) and any("eceipt" in s for s in subjects)


def test_ach_failure_tells_the_customer_and_records_nothing(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        invoice = _first_open(loop)
        token = _pay(loop, invoice, "ach_failure")
        loop.stripe.clock.advance(timedelta(days=7))
        _settle(loop)
        assert _payment(loop).status == PaymentStatus.FAILED.value
        assert _qbo_payments_for(loop, invoice.qbo_id) == []
        view = PortalService(loop.ctx).invoice(token)
        assert view is not None and view.payment_state.value == "none" and view.balance == invoice.balance


def test_declined_card_keeps_the_session_open_for_another_try(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        invoice = _first_open(loop)
        _pay(loop, invoice, "card_declined")
        payment = _payment(loop)
        assert payment.status == PaymentStatus.OPEN.value
        loop.stripe.pay_checkout(payment.checkout_session_id or "", "card_success")
        _settle(loop)
        assert _payment(loop).status == PaymentStatus.SUCCEEDED.value
        assert len(_qbo_payments_for(loop, invoice.qbo_id)) == 1


def test_partial_payment_leaves_the_rest_open(tmp_path: Path) -> None:
    with running_loop(tmp_path, allow_partial=True, min_partial="5.00") as loop:
        run_cycle(loop.ctx, loop.realm)
        invoice = _first_open(loop)
        token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
        portal = PortalService(loop.ctx)
        with pytest.raises(PermanentError, match="most you can pay"):
            portal.start_payment(token, invoice.balance + 1)
        with pytest.raises(PermanentError, match="smallest"):
            portal.start_payment(token, Decimal("1.00"))
        _pay(loop, invoice, "card_success", Decimal("10.00"))
        assert Decimal(str(loop.qbo.entity("Invoice", invoice.qbo_id)["Balance"])) == invoice.balance - 10
        run_cycle(loop.ctx, loop.realm)
        view = portal.invoice(token)
        assert view is not None and view.balance == invoice.balance - 10 and view.status.value == "partial"


def test_duplicated_and_reordered_webhooks_change_nothing(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        loop.stripe.webhooks.duplicate = True
        loop.stripe.webhooks.reorder = True
        invoices = []
        with loop.ctx.db.transaction() as s:
            invoices = list(s.scalars(select(InvoiceRow).where(InvoiceRow.status == "open")).all())[:3]
        for invoice in invoices:
            _pay(loop, invoice, "card_success")
        for invoice in invoices:
            assert len(_qbo_payments_for(loop, invoice.qbo_id)) == 1


def test_missed_webhook_is_recovered_by_backfill(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        invoice = _first_open(loop)
        loop.stripe.webhooks.paused = True
        token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
        PortalService(loop.ctx).start_payment(token, None)
        loop.stripe.pay_checkout(_payment(loop).checkout_session_id or "", "card_success")
        assert ingest(loop.ctx) == 0
        assert backfill(loop.ctx) >= 1
        loop.drain()
        assert _payment(loop).status == PaymentStatus.SUCCEEDED.value
        assert len(_qbo_payments_for(loop, invoice.qbo_id)) == 1
        assert backfill(loop.ctx) == 0  # nothing new: the cursor moved
