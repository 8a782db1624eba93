"""Payment attempts: lookups and the one forward-only status transition."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.domain.payments import PaymentStatus
from syncd.store.models import PaymentRow


def by_session(session: Session, checkout_session_id: str) -> PaymentRow | None:
    return session.scalar(select(PaymentRow).where(PaymentRow.checkout_session_id == checkout_session_id))


def by_intent(session: Session, payment_intent_id: str) -> PaymentRow | None:
    return session.scalar(select(PaymentRow).where(PaymentRow.payment_intent_id == payment_intent_id))


def for_invoice(
    session: Session, realm_id: str, invoice_id: str, statuses: list[PaymentStatus]
) -> list[PaymentRow]:
    rows = session.scalars(
        select(PaymentRow)
        .where(PaymentRow.company_id == realm_id, PaymentRow.status.in_([s.value for s in statuses]))
        .order_by(PaymentRow.created_at)
    )
    return [r for r in rows if invoice_id in r.invoice_ids]


def attempts_for(session: Session, realm_id: str, invoice_id: str) -> int:
    """How many attempts exist for the invoice: the next attempt's sequence number is this + 1."""
    prefix = f"pay:{realm_id}:{invoice_id}:"
    return int(
        session.scalar(select(func.count()).where(PaymentRow.key.startswith(prefix, autoescape=True))) or 0
    )


def advance(row: PaymentRow, to: PaymentStatus, *, now: datetime) -> bool:
    """Apply an observation; True when the status actually changed."""
    before = PaymentStatus(row.status)
    after = before.advance(to)
    if after is before:
        return False
    row.status = after.value
    row.updated_at = now
    return True
