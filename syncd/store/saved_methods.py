"""Saved payment methods, consents to save them, and card-on-file requests in the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain import MethodKind, SavedMethod
from syncd.store.models import CardRequest, CustomerRow, MethodConsent, SavedMethodRow


def customer_of(session: Session, stripe_customer_id: str) -> CustomerRow | None:
    """The QBO customer a Stripe Customer was made for (syncd maps them 1:1)."""
    return session.scalars(
        select(CustomerRow).where(CustomerRow.stripe_customer_id == stripe_customer_id).limit(1)
    ).first()


def attached(
    session: Session, realm_id: str, qbo_customer_id: str, method: SavedMethod, *, now: datetime
) -> SavedMethodRow:
    """Record (or refresh) a method attached to the customer; a detached row stays detached
    when its attach event arrives late, since Stripe never re-attaches a detached method."""
    row = session.get(SavedMethodRow, method.id)
    if row is None:
        row = SavedMethodRow(
            payment_method_id=method.id,
            company_id=realm_id,
            qbo_customer_id=qbo_customer_id,
            stripe_customer_id=method.customer_id or "",
            attached_at=now,
            is_default=False,
        )
        session.add(row)
    row.kind = method.kind.value
    row.brand = method.brand
    row.last4 = method.last4
    row.exp_month = method.exp_month
    row.exp_year = method.exp_year
    row.bank_name = method.bank_name
    row.updated_at = now
    return row


def detached(
    session: Session, method: SavedMethod, realm_id: str, qbo_customer_id: str, *, now: datetime
) -> None:
    """Mark the method removed (recorded even when its attach event was never seen)."""
    row = attached(session, realm_id, qbo_customer_id, method, now=now)
    if row.detached_at is None:
        row.detached_at = now
    row.is_default = False


def on_file(session: Session, realm_id: str, qbo_customer_id: str) -> list[SavedMethodRow]:
    """The customer's methods still attached, oldest first."""
    return list(
        session.scalars(
            select(SavedMethodRow)
            .where(
                SavedMethodRow.company_id == realm_id,
                SavedMethodRow.qbo_customer_id == qbo_customer_id,
                SavedMethodRow.detached_at.is_(None),
            )
            .order_by(SavedMethodRow.attached_at, SavedMethodRow.payment_method_id)
        )
    )


def mark_default(
    session: Session, realm_id: str, qbo_customer_id: str, method_id: str, *, now: datetime
) -> None:
    """Exactly one default among the customer's methods on file."""
    for row in on_file(session, realm_id, qbo_customer_id):
        row.is_default = row.payment_method_id == method_id
        row.updated_at = now


def cards(session: Session, realm_id: str) -> list[SavedMethodRow]:
    """Every card still on file for the company (for expiry notices)."""
    return list(
        session.scalars(
            select(SavedMethodRow).where(
                SavedMethodRow.company_id == realm_id,
                SavedMethodRow.kind == MethodKind.CARD.value,
                SavedMethodRow.detached_at.is_(None),
                SavedMethodRow.exp_year.is_not(None),
            )
        )
    )


def consent(
    session: Session,
    *,
    reference: str,
    realm_id: str,
    qbo_customer_id: str,
    text: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> MethodConsent:
    """Record what the customer agreed to under ``reference``; the first record stands."""
    row = session.get(MethodConsent, reference)
    if row is None:
        row = MethodConsent(
            reference=reference,
            company_id=realm_id,
            qbo_customer_id=qbo_customer_id,
            text=text,
            consented_at=now,
            ip=(ip or None) and ip[:64],
            user_agent=(user_agent or None) and user_agent[:512],
        )
        session.add(row)
    return row


def request_by_key(session: Session, request_key: str) -> CardRequest | None:
    return session.scalars(select(CardRequest).where(CardRequest.request_key == request_key)).first()
