"""Autopay in the store: enrollments, charge attempts and notice links.

Every function works in the caller's transaction. An enrollment row is one per customer and
changes in place; each enrollment's consent is a ``MethodConsent`` of its own reference, so the
history of what was agreed stays. A charge attempt is unique per (invoice, balance, attempt):
planning the same charge twice collides instead of charging twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.autopay import ChargeStatus
from syncd.store.models import AutopayCharge, AutopayEnrollment, AutopayLink


def enrollment(session: Session, realm_id: str, customer_id: str) -> AutopayEnrollment | None:
    return session.get(AutopayEnrollment, (realm_id, customer_id))


def active(session: Session, realm_id: str, customer_id: str) -> AutopayEnrollment | None:
    """The customer's enrollment while it is on."""
    row = enrollment(session, realm_id, customer_id)
    return row if row is not None and row.stopped_at is None else None


def enrolled(session: Session, realm_id: str) -> list[AutopayEnrollment]:
    """Every enrollment of the company, on or off, by customer."""
    return list(
        session.scalars(
            select(AutopayEnrollment)
            .where(AutopayEnrollment.company_id == realm_id)
            .order_by(AutopayEnrollment.customer_id)
        )
    )


def enroll(
    session: Session,
    *,
    realm_id: str,
    customer_id: str,
    method_id: str,
    cap: Decimal | None,
    consent_reference: str,
    now: datetime,
) -> AutopayEnrollment:
    row = enrollment(session, realm_id, customer_id)
    if row is None:
        row = AutopayEnrollment(company_id=realm_id, customer_id=customer_id)
        session.add(row)
    row.payment_method_id = method_id
    row.cap = cap
    row.consent_reference = consent_reference
    row.enrolled_at = now
    row.stopped_at = None
    row.stop_reason = None
    row.updated_at = now
    return row


def stop(row: AutopayEnrollment, reason: str, *, now: datetime) -> bool:
    """Turn the enrollment off; False when it was off already."""
    if row.stopped_at is not None:
        return False
    row.stopped_at = now
    row.stop_reason = reason[:64]
    row.updated_at = now
    return True


def charges_of(
    session: Session, realm_id: str, invoice_id: str, statuses: Sequence[ChargeStatus] | None = None
) -> list[AutopayCharge]:
    """The invoice's attempts, oldest first (optionally only those in ``statuses``)."""
    query = select(AutopayCharge).where(
        AutopayCharge.company_id == realm_id, AutopayCharge.invoice_id == invoice_id
    )
    if statuses is not None:
        query = query.where(AutopayCharge.status.in_([s.value for s in statuses]))
    return list(session.scalars(query.order_by(AutopayCharge.created_at, AutopayCharge.attempt)))


def charges_for_customer(
    session: Session, realm_id: str, customer_id: str, statuses: Sequence[ChargeStatus]
) -> list[AutopayCharge]:
    return list(
        session.scalars(
            select(AutopayCharge)
            .where(
                AutopayCharge.company_id == realm_id,
                AutopayCharge.customer_id == customer_id,
                AutopayCharge.status.in_([s.value for s in statuses]),
            )
            .order_by(AutopayCharge.charge_on, AutopayCharge.invoice_id)
        )
    )


def due(session: Session, realm_id: str, today: date) -> list[AutopayCharge]:
    """Scheduled attempts whose day has come (company-local ``today``)."""
    return list(
        session.scalars(
            select(AutopayCharge)
            .where(
                AutopayCharge.company_id == realm_id,
                AutopayCharge.status == ChargeStatus.SCHEDULED.value,
                AutopayCharge.charge_on <= today,
            )
            .order_by(AutopayCharge.charge_on, AutopayCharge.key)
        )
    )


KEY_PREFIX = "autopay:"  # of every automatic charge's payment key


def charge_key(realm_id: str, invoice_id: str, balance: Decimal, attempt: int) -> str:
    """The attempt's key: its payment key and, with a prefix, its Stripe idempotency key."""
    # Three decimals whatever the database gave back, so one balance always spells one key.
    return f"{KEY_PREFIX}{realm_id}:{invoice_id}:{balance.quantize(Decimal('0.001')):f}:{attempt}"


def plan(
    session: Session,
    *,
    realm_id: str,
    customer_id: str,
    invoice_id: str,
    balance: Decimal,
    currency: str,
    attempt: int,
    charge_on: date,
    method_id: str,
    now: datetime,
) -> AutopayCharge | None:
    """A new scheduled attempt; None when this (invoice, balance, attempt) was planned before."""
    key = charge_key(realm_id, invoice_id, balance, attempt)
    if session.get(AutopayCharge, key) is not None:
        return None
    row = AutopayCharge(
        key=key,
        company_id=realm_id,
        customer_id=customer_id,
        invoice_id=invoice_id,
        balance=balance,
        currency=currency,
        attempt=attempt,
        charge_on=charge_on,
        status=ChargeStatus.SCHEDULED.value,
        payment_method_id=method_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def move(row: AutopayCharge, to: ChargeStatus, *, now: datetime) -> None:
    row.status = to.value
    row.updated_at = now


def add_link(
    session: Session,
    *,
    digest: str,
    purpose: str,
    charge: AutopayCharge,
    now: datetime,
    expires_at: datetime,
    known_new: bool = False,
) -> None:
    """``known_new``: the caller planned ``charge`` in this transaction, so no link of it exists
    (a link's digest derives from its charge's key): no read first."""
    if known_new or session.get(AutopayLink, digest) is None:
        session.add(
            AutopayLink(
                digest=digest,
                purpose=purpose,
                company_id=charge.company_id,
                customer_id=charge.customer_id,
                charge_key=charge.key,
                created_at=now,
                expires_at=expires_at,
            )
        )


def link(session: Session, digest: str) -> AutopayLink | None:
    return session.get(AutopayLink, digest)


def chased_invoices(session: Session, realm_id: str) -> set[str]:
    """Invoices autopay could not pay by itself: a charge declined, waiting for the payer to
    confirm on-session, or over the customer's cap (the reminders chase these like any other)."""
    stuck = [ChargeStatus.DECLINED.value, ChargeStatus.NEEDS_ACTION.value, ChargeStatus.OVER_CAP.value]
    return set(
        session.scalars(
            select(AutopayCharge.invoice_id).where(
                AutopayCharge.company_id == realm_id, AutopayCharge.status.in_(stuck)
            )
        )
    )
