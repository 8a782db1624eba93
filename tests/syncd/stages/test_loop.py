"""The loop end to end over HTTP: QBO simulator -> mirror -> links -> email -> Stripe -> QBO."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from loop_harness import running_loop
from sqlalchemy import select

from syncd.domain.payments import PaymentStatus
from syncd.ports.portal import Outcome
from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle
from syncd.stages.events import ingest
from syncd.store.autopay import charge_key
from syncd.store.models import InvoiceRow, PaymentRow, PortalLink


def _open_invoice(loop, *, currency: str = "USD") -> InvoiceRow:  # type: ignore[no-untyped-def]
    with loop.ctx.db.transaction() as s:
        from sqlalchemy import select

        rows = s.scalars(
            select(InvoiceRow).where(InvoiceRow.status == "open", InvoiceRow.currency == currency)
        ).all()
        with_email = [r for r in rows if r.email]
        assert with_email, "the seeded company should have open invoices with an email"
        return with_email[0]


def test_invoice_to_email_to_payment_to_qbo(tmp_path: Path) -> None:
    with running_loop(tmp_path, first_sync="email_open") as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        loop.drain()
        invoice = _open_invoice(loop)
        # The customer got a branded email carrying the invoice's own link.
        link = ctx.links.url(loop.realm, invoice.qbo_id)
        mails = [m for m in loop.sink.mailbox.all() if link in m.text]
        assert len(mails) == 1 and "Northwind IT Services" in mails[0].html
        assert invoice.doc_number in mails[0].subject
        # Pay the whole balance by card through the portal backend and the simulated Checkout.
        token = link.rsplit("/", 1)[1]
        portal = PortalService(ctx)
        view = portal.invoice(token)
        assert view is not None and view.balance == invoice.balance
        checkout_url = portal.start_payment(token, None)
        assert portal.start_payment(token, None) == checkout_url  # a double click reuses the session
        with ctx.db.transaction() as s:
            from sqlalchemy import select

            payment = s.scalars(select(PaymentRow)).one()
        loop.stripe.pay_checkout(payment.checkout_session_id, "card_success")
        loop.stripe.webhooks.flush()
        assert ingest(ctx) >= 1
        loop.drain()
        assert portal.outcome(token, payment.checkout_session_id) is Outcome.PAID
        # QBO now has exactly one Payment linked to that invoice, and the invoice is paid.
        qbo_payments = [
            p
            for p in loop.qbo.entities("Payment")
            if any(
                lt.get("TxnId") == invoice.qbo_id
                for line in p.get("Line", [])
                for lt in line.get("LinkedTxn", [])
            )
        ]
        assert len(qbo_payments) == 1
        assert Decimal(str(qbo_payments[0]["TotalAmt"])) == invoice.balance
        assert Decimal(str(loop.qbo.entity("Invoice", invoice.qbo_id)["Balance"])) == 0
        receipts = [m for m in loop.sink.mailbox.all() if "eceipt" in m.subject]
        assert len(receipts) == 1
        # Replaying every webhook and re-running everything changes nothing.
        loop.stripe.webhooks.duplicate = True
        run_cycle(ctx, loop.realm)
        ingest(ctx)
        loop.drain()
        assert len([p for p in loop.qbo.entities("Payment") if p["Id"] == qbo_payments[0]["Id"]]) == 1
        view = portal.invoice(token)
        assert view is not None and view.payment_state.value == "paid"


def test_voided_invoice_link_stops_taking_payments(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        invoice = _open_invoice(loop)
        token = ctx.links.token(loop.realm, invoice.qbo_id)
        assert PortalService(ctx).invoice(token) is not None
        loop.qbo.void_invoice(invoice.qbo_id)
        run_cycle(ctx, loop.realm)
        assert PortalService(ctx).invoice(token) is None
        with ctx.db.transaction() as s:
            link = s.get(PortalLink, ctx.links.digest(token))
            assert link is not None and link.revoked_at is not None


def test_offline_check_expires_open_checkout(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        invoice = _open_invoice(loop)
        token = ctx.links.token(loop.realm, invoice.qbo_id)
        PortalService(ctx).start_payment(token, None)
        loop.qbo.record_offline_payment(invoice.qbo_id, invoice.balance)
        run_cycle(ctx, loop.realm)
        loop.drain()
        with ctx.db.transaction() as s:
            from sqlalchemy import select

            payment = s.scalars(select(PaymentRow)).one()
            assert payment.status == PaymentStatus.EXPIRED.value
        view = PortalService(ctx).invoice(token)
        assert view is not None and view.payment_state.value == "paid"
        with pytest.raises(Exception, match="nothing left to pay"):
            PortalService(ctx).start_payment(token, None)


def test_balance_changed_in_qbo_expires_the_larger_checkout(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        invoice = _open_invoice(loop)
        token = ctx.links.token(loop.realm, invoice.qbo_id)
        first = PortalService(ctx).start_payment(token, None)
        loop.qbo.record_offline_payment(invoice.qbo_id, Decimal("10.00"))
        run_cycle(ctx, loop.realm)
        loop.drain()
        view = PortalService(ctx).invoice(token)
        assert view is not None and view.balance == invoice.balance - 10
        second = PortalService(ctx).start_payment(token, None)
        assert second != first
        with ctx.db.transaction() as s:
            from sqlalchemy import select

            statuses = sorted((p.amount, p.status) for p in s.scalars(select(PaymentRow)))
        assert statuses == [(invoice.balance - 10, "open"), (invoice.balance, "expired")]


def test_the_portal_never_sends_a_payer_to_an_automatic_charge_in_flight(tmp_path: Path) -> None:
    """An autopay charge of the same invoice and amount that is still being made has no Checkout:
    a click on Pay opens an attempt of its own instead of waiting on it."""
    with running_loop(tmp_path, first_sync="email_open") as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        loop.drain()
        invoice = _open_invoice(loop)
        automatic = charge_key(loop.realm, invoice.qbo_id, invoice.balance, 1)
        with ctx.db.transaction() as s:
            s.add(
                PaymentRow(
                    key=automatic,
                    company_id=loop.realm,
                    customer_id=invoice.customer_id,
                    invoice_ids=[invoice.qbo_id],
                    amount=invoice.balance,
                    currency=invoice.currency,
                    status=PaymentStatus.CREATING.value,
                    created_at=ctx.clock(),
                    updated_at=ctx.clock(),
                )
            )
        token = ctx.links.url(loop.realm, invoice.qbo_id).rsplit("/", 1)[1]
        checkout_url = PortalService(ctx).start_payment(token, None)
        loop.drain()
        with ctx.db.transaction() as s:
            keys = sorted(row.key for row in s.scalars(select(PaymentRow)))
        assert checkout_url and keys == sorted([automatic, f"pay:{loop.realm}:{invoice.qbo_id}:1"])
