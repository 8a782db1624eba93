"""Entry reviews: syncd Payments changed in QBO by someone else, held for staff.

Contract: ``flag`` runs in the pull's transaction and records an entry once, ever (the key is the
company and the QBO Payment id), so re-reading the same change in an overlap window flags nothing
twice; ``resolve`` moves an OPEN review to REBOOKED or RELEASED in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.reviews import EntryChange, ReviewStatus
from syncd.store.models import EntryReview, PaymentRow


def flag(
    session: Session, row: PaymentRow, qbo_payment_id: str, change: EntryChange, detail: str, now: datetime
) -> EntryReview | None:
    """Record the change; None when this entry was flagged before."""
    if session.get(EntryReview, (row.company_id, qbo_payment_id)) is not None:
        return None
    review = EntryReview(
        company_id=row.company_id,
        qbo_payment_id=qbo_payment_id,
        payment_key=row.key,
        payment_intent_id=row.payment_intent_id,
        invoice_ids=list(row.invoice_ids),
        amount=row.amount,
        currency=row.currency,
        change=change.value,
        detail=detail,
        status=ReviewStatus.OPEN.value,
        detected_at=now,
        resolved_at=None,
    )
    session.add(review)
    session.flush()
    return review


def listed(session: Session, realm_id: str, *, open_only: bool = False) -> list[EntryReview]:
    query = select(EntryReview).where(EntryReview.company_id == realm_id)
    if open_only:
        query = query.where(EntryReview.status == ReviewStatus.OPEN.value)
    return list(session.scalars(query.order_by(EntryReview.detected_at, EntryReview.qbo_payment_id)))


def held_invoices(session: Session, realm_id: str) -> set[str]:
    """Invoices not to offer for payment: those of an open review, and of a rebooked one until
    syncd has written its Payment again."""
    held: set[str] = set()
    for review in session.scalars(
        select(EntryReview).where(
            EntryReview.company_id == realm_id,
            EntryReview.status.in_([ReviewStatus.OPEN.value, ReviewStatus.REBOOKED.value]),
        )
    ):
        if review.status == ReviewStatus.REBOOKED.value:
            row = session.get(PaymentRow, review.payment_key)
            if row is None or row.qbo_payment_id is not None:
                continue
        held.update(review.invoice_ids)
    return held


def get(session: Session, realm_id: str, qbo_payment_id: str) -> EntryReview | None:
    return session.get(EntryReview, (realm_id, qbo_payment_id))


def resolve(review: EntryReview, status: ReviewStatus, now: datetime) -> None:
    review.status = status.value
    review.resolved_at = now
