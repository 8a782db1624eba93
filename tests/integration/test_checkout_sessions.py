"""One payable Checkout Session per invoice, over both simulators: a Pay press with another amount
expires the older session before the new one is handed out, a change in QBO expires the open ones,
two tabs share one session, and a session paid while syncd closed it is booked and staff told."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books_loop import books_loop, entity, open_invoices, settle
from loop_harness import Loop
from sqlalchemy import select

from connectors.stripe.simulator.errors import ApiError
from syncd.domain.payments import PaymentStatus
from syncd.stages.collect import PortalService, open_attempt
from syncd.stages.cycle import run_cycle
from syncd.store.models import InvoiceRow, PaymentRow

STAFF = "staff@northwind.test"


def _sessions(loop: Loop, invoice_id: str) -> dict[str, dict[str, Any]]:
    """The invoice's Checkout Sessions at Stripe, by id (a session for several counts for each)."""
    return {
        s["id"]: s
        for s in loop.stripe.objects("checkout.session")
        if invoice_id in str((s.get("metadata") or {}).get("invoice_ids", ""))
    }


def _open_at_stripe(loop: Loop, invoice_id: str) -> list[dict[str, Any]]:
    return [s for s in _sessions(loop, invoice_id).values() if s["status"] == "open"]


def _session_id(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _invoice(loop: Loop, at_least: Decimal = Decimal("50")) -> InvoiceRow:
    found = [i for i in open_invoices(loop) if i.balance >= at_least]
    assert found, "the seeded company has no open invoice big enough"
    return found[0]


def _staff_mail(loop: Loop, words: str) -> list[Any]:
    return [m for m in loop.sink.mailbox.all() if STAFF in m.to and words in (m.subject or "").lower()]


def test_each_pay_press_with_another_amount_leaves_only_the_last_session_payable(
    tmp_path: Path, database_url: str | None
) -> None:
    with books_loop(tmp_path, allow_partial=True, database_url=database_url) as loop:
        invoice = _invoice(loop)
        token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
        portal = PortalService(loop.ctx)
        amounts = [Decimal("10.00"), Decimal("20.00"), invoice.balance]
        urls = [portal.start_payment(token, amount) for amount in amounts]
        assert len(set(urls)) == 3
        payable = _open_at_stripe(loop, invoice.qbo_id)
        assert [s["id"] for s in payable] == [_session_id(urls[-1])]
        # The customer cannot pay the older pages any more: at most the balance can be charged.
        for url in urls[:-1]:
            with pytest.raises(ApiError, match="expired"):
                loop.stripe.pay_checkout(_session_id(url), "card_success")
        assert sum(Decimal(s["amount_total"]) for s in payable) / 100 <= invoice.balance
        loop.stripe.pay_checkout(_session_id(urls[-1]), "card_success")
        settle(loop)
        run_cycle(loop.ctx, loop.realm)
        assert Decimal(str(entity(loop, "Invoice", invoice.qbo_id)["Balance"])) == 0
        charged = [p for p in loop.stripe.objects("payment_intent") if p["status"] == "succeeded"]
        assert sum(Decimal(p["amount_received"]) for p in charged) / 100 == invoice.balance
        with loop.ctx.db.transaction() as s:
            statuses = sorted(p.status for p in s.scalars(select(PaymentRow)))
        assert statuses == ["expired", "expired", "succeeded"]


def test_two_tabs_with_the_same_amount_share_one_session(tmp_path: Path) -> None:
    with books_loop(tmp_path, allow_partial=True) as loop:
        invoice = _invoice(loop)
        token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
        first = PortalService(loop.ctx).start_payment(token, Decimal("25.00"))
        second = PortalService(loop.ctx).start_payment(token, Decimal("25.00"))
        assert first == second
        assert len(_sessions(loop, invoice.qbo_id)) == 1


def test_a_session_for_several_invoices_counts_for_each(tmp_path: Path) -> None:
    with books_loop(tmp_path, allow_partial=True) as loop:
        by_customer: dict[str, list[InvoiceRow]] = {}
        for inv in open_invoices(loop):
            by_customer.setdefault(inv.customer_id, []).append(inv)
        pair = next(v[:2] for v in by_customer.values() if len(v) >= 2)
        now = loop.ctx.clock()
        with loop.ctx.db.transaction() as s:
            total = pair[0].balance + pair[1].balance
            open_attempt(s, key="pay:both", invoices=pair, amount=total, now=now)
        loop.drain()
        with loop.ctx.db.transaction() as s:
            both = s.get(PaymentRow, "pay:both")
            assert both is not None and both.checkout_session_id
            both_session = both.checkout_session_id
        url = PortalService(loop.ctx).start_payment(
            loop.ctx.links.token(loop.realm, pair[1].qbo_id), pair[1].balance
        )
        assert _session_id(url) != both_session
        assert (
            next(s for s in loop.stripe.objects("checkout.session") if s["id"] == both_session)["status"]
            == "expired"
        )


def test_an_invoice_changed_in_qbo_expires_its_open_session_even_a_smaller_one(tmp_path: Path) -> None:
    with books_loop(tmp_path, allow_partial=True) as loop:
        invoice = _invoice(loop)
        token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
        url = PortalService(loop.ctx).start_payment(token, Decimal("10.00"))
        loop.qbo.record_offline_payment(invoice.qbo_id, Decimal("5.00"))
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        assert _open_at_stripe(loop, invoice.qbo_id) == []
        again = PortalService(loop.ctx).start_payment(token, Decimal("10.00"))
        assert again != url
        assert [s["id"] for s in _open_at_stripe(loop, invoice.qbo_id)] == [_session_id(again)]


def test_a_session_paid_while_syncd_closed_it_is_booked_as_credit_and_staff_told(tmp_path: Path) -> None:
    with books_loop(tmp_path, allow_partial=True) as loop:
        invoice = _invoice(loop)
        token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
        url = PortalService(loop.ctx).start_payment(token, invoice.balance)
        # The bookkeeper records a check for the whole invoice; the pull queues the session's expiry,
        # but the customer pays before the worker gets to it.
        loop.qbo.record_offline_payment(invoice.qbo_id, invoice.balance)
        run_cycle(loop.ctx, loop.realm)
        loop.stripe.pay_checkout(_session_id(url), "card_success")
        settle(loop)
        with loop.ctx.db.transaction() as s:
            row = s.scalar(select(PaymentRow).where(PaymentRow.checkout_session_id == _session_id(url)))
            assert row is not None and row.status == PaymentStatus.SUCCEEDED.value
            booked = row.qbo_payment_id
        payment = entity(loop, "Payment", booked)
        assert Decimal(str(payment["TotalAmt"])) == invoice.balance
        assert Decimal(str(payment.get("UnappliedAmt", 0))) == invoice.balance  # all customer credit
        assert len(_staff_mail(loop, "syncd was closing was paid")) == 1
        assert len(_staff_mail(loop, "customer credit")) == 1
