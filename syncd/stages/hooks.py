"""Consequences of an invoice changing state in QBO: links revoked or restored, checkouts expired."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from syncd.catalog.payloads import ExpireCheckout
from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.domain.payments import PaymentStatus
from syncd.store import effects
from syncd.store.models import PaymentRow, PortalLink


def invoice_closed(
    ctx: Context, session: Session, realm_id: str, invoice_id: str, status: InvoiceStatus
) -> None:
    """Paid (e.g. a check the bookkeeper recorded), voided or deleted: stop taking payments for it."""
    if status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED):
        session.execute(
            update(PortalLink)
            .where(PortalLink.company_id == realm_id, PortalLink.invoice_id == invoice_id)
            .values(revoked_at=ctx.clock())
        )
    _expire_checkouts(ctx, session, realm_id, invoice_id, above=None)


def invoice_rebalanced(ctx: Context, session: Session, realm_id: str, invoice_id: str) -> None:
    """Its total or balance changed in QBO (edited, or paid in part elsewhere): no session made for
    the old invoice stays payable (one for several invoices included); the portal shows the new
    balance and a new Pay press opens a new session."""
    _expire_checkouts(ctx, session, realm_id, invoice_id, above=None)


def _expire_checkouts(
    ctx: Context, session: Session, realm_id: str, invoice_id: str, *, above: Decimal | None
) -> None:
    now = ctx.clock()
    open_payments = session.scalars(
        select(PaymentRow).where(
            PaymentRow.company_id == realm_id,
            PaymentRow.status.in_([PaymentStatus.OPEN.value, PaymentStatus.CREATING.value]),
        )
    )
    for payment in open_payments:
        if above is not None and payment.amount <= above:
            continue
        if invoice_id in payment.invoice_ids:
            queue_checkout_expiry(session, payment, now)


def invoice_reopened(ctx: Context, session: Session, realm_id: str, invoice_id: str) -> None:
    session.execute(
        update(PortalLink)
        .where(PortalLink.company_id == realm_id, PortalLink.invoice_id == invoice_id)
        .values(revoked_at=None)
    )


def queue_checkout_expiry(session: Session, payment: PaymentRow, now: datetime) -> None:
    """Queue the expiry of ``payment``'s open Checkout Session so it can no longer be paid."""
    if payment.checkout_session_id:
        expiry = ExpireCheckout(payment_key=payment.key, session_id=payment.checkout_session_id)
        effects.enqueue(session, expiry, company_id=payment.company_id, now=now)
