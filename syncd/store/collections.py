"""Collections state: accounts on the escalation ladder, what collectors recorded, promises,
disputed invoices, offline payments and write-offs.

Every function works inside the caller's transaction and commits nothing itself, so a record and
the effect it queues (a QBO Payment, an email) are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from syncd.domain import InvoiceStatus
from syncd.domain.collections import ActivityKind, PromiseStatus
from syncd.store.models import (
    CollectionAccount,
    CollectionActivity,
    DisputedInvoice,
    Effect,
    InvoiceRow,
    PaymentPromise,
)

PAYABLE = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value)


def account(session: Session, realm_id: str, customer_id: str) -> CollectionAccount:
    """The customer's ladder row, created empty the first time."""
    row = session.get(CollectionAccount, (realm_id, customer_id))
    if row is None:
        row = CollectionAccount(company_id=realm_id, customer_id=customer_id)
        session.add(row)
        session.flush()
    return row


def record(
    session: Session,
    realm_id: str,
    customer_id: str,
    kind: ActivityKind,
    *,
    by: str,
    now: datetime,
    body: str = "",
    outcome: str | None = None,
    invoice_id: str | None = None,
) -> CollectionActivity:
    """Add one line to the account's history."""
    row = CollectionActivity(
        company_id=realm_id,
        customer_id=customer_id,
        invoice_id=invoice_id,
        kind=kind.value,
        outcome=outcome,
        body=body,
        by=by,
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def history(session: Session, realm_id: str, customer_id: str, limit: int = 50) -> list[CollectionActivity]:
    """The account's latest lines, newest first."""
    rows = session.scalars(
        select(CollectionActivity)
        .where(CollectionActivity.company_id == realm_id, CollectionActivity.customer_id == customer_id)
        .order_by(CollectionActivity.id.desc())
        .limit(limit)
    )
    return list(rows)


def overdue(session: Session, realm_id: str, customer_id: str, today: date) -> list[InvoiceRow]:
    """The customer's payable invoices past their due date, oldest first."""
    rows = session.scalars(
        select(InvoiceRow)
        .where(
            InvoiceRow.company_id == realm_id,
            InvoiceRow.customer_id == customer_id,
            InvoiceRow.status.in_(PAYABLE),
            InvoiceRow.due_date < today,
        )
        .order_by(InvoiceRow.due_date, InvoiceRow.qbo_id)
    )
    return list(rows)


def messaged_on(session: Session, realm_id: str, day: date) -> set[str]:
    """Customers who already have a message for the company-local ``day``: a customer message
    (``email:notice:…:<day>``) or a reminder step (``email:dunning:…:<day>:<step>``)."""
    iso = day.isoformat()
    keys = session.scalars(
        select(Effect.key).where(
            Effect.company_id == realm_id,
            or_(
                Effect.key.like(f"email:notice:{realm_id}:%:{iso}"),
                Effect.key.like(f"email:dunning:{realm_id}:%:{iso}:%"),
            ),
        )
    )
    return {key.split(":")[3] for key in keys}


def open_invoices(session: Session, realm_id: str, customer_id: str) -> list[InvoiceRow]:
    """The customer's payable invoices, due first."""
    rows = session.scalars(
        select(InvoiceRow)
        .where(
            InvoiceRow.company_id == realm_id,
            InvoiceRow.customer_id == customer_id,
            InvoiceRow.status.in_(PAYABLE),
        )
        .order_by(InvoiceRow.due_date, InvoiceRow.qbo_id)
    )
    return list(rows)


def owed(session: Session, realm_id: str, customer_id: str, today: date) -> Decimal:
    """What the customer owes overdue today."""
    return sum((i.balance for i in overdue(session, realm_id, customer_id, today)), Decimal(0))


def open_promise(session: Session, realm_id: str, customer_id: str) -> PaymentPromise | None:
    return session.scalar(
        select(PaymentPromise)
        .where(
            PaymentPromise.company_id == realm_id,
            PaymentPromise.customer_id == customer_id,
            PaymentPromise.status == PromiseStatus.OPEN.value,
        )
        .order_by(PaymentPromise.id.desc())
        .limit(1)
    )


def promise(
    session: Session,
    realm_id: str,
    customer_id: str,
    *,
    on: date,
    amount: Decimal,
    by: str,
    today: date,
    now: datetime,
) -> PaymentPromise:
    """Record a promise to pay (an earlier open one is replaced: the customer's word is the latest)."""
    earlier = open_promise(session, realm_id, customer_id)
    if earlier is not None:
        earlier.status = PromiseStatus.BROKEN.value
        earlier.resolved_at = now
    row = PaymentPromise(
        company_id=realm_id,
        customer_id=customer_id,
        promised_on=on,
        amount=amount,
        owed_at_promise=owed(session, realm_id, customer_id, today),
        status=PromiseStatus.OPEN.value,
        recorded_by=by,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def promised_customers(session: Session, realm_id: str, today: date) -> set[str]:
    """Customers with an open promise whose date has not passed: reminders pause for them."""
    rows = session.scalars(
        select(PaymentPromise.customer_id).where(
            PaymentPromise.company_id == realm_id,
            PaymentPromise.status == PromiseStatus.OPEN.value,
            PaymentPromise.promised_on >= today,
        )
    )
    return set(rows)


def promises_due(session: Session, realm_id: str, today: date) -> list[PaymentPromise]:
    """Open promises whose date has passed: to be judged kept or broken."""
    rows = session.scalars(
        select(PaymentPromise)
        .where(
            PaymentPromise.company_id == realm_id,
            PaymentPromise.status == PromiseStatus.OPEN.value,
            PaymentPromise.promised_on < today,
        )
        .order_by(PaymentPromise.id)
    )
    return list(rows)


def disputed_invoices(session: Session, realm_id: str) -> set[str]:
    rows = session.scalars(
        select(DisputedInvoice.invoice_id).where(
            DisputedInvoice.company_id == realm_id, DisputedInvoice.closed_at.is_(None)
        )
    )
    return set(rows)


def dispute(session: Session, realm_id: str, invoice_id: str, *, by: str, now: datetime) -> None:
    """Mark the invoice disputed (again, if it was closed)."""
    row = session.get(DisputedInvoice, (realm_id, invoice_id))
    if row is None:
        session.add(DisputedInvoice(company_id=realm_id, invoice_id=invoice_id, opened_by=by, opened_at=now))
    else:
        row.closed_at = None
    session.flush()


def accounts_of(session: Session, realm_id: str, collector: str) -> list[CollectionAccount]:
    rows = session.scalars(
        select(CollectionAccount)
        .where(
            CollectionAccount.company_id == realm_id,
            func.lower(CollectionAccount.collector) == collector.lower(),
        )
        .order_by(CollectionAccount.assigned_at, CollectionAccount.customer_id)
    )
    return list(rows)


def collectors(session: Session, realm_id: str) -> list[str]:
    rows = session.scalars(
        select(CollectionAccount.collector)
        .where(CollectionAccount.company_id == realm_id, CollectionAccount.collector.is_not(None))
        .distinct()
    )
    return sorted(c for c in rows if c)


def escalated(session: Session, realm_id: str) -> list[CollectionAccount]:
    rows = session.scalars(
        select(CollectionAccount)
        .where(CollectionAccount.company_id == realm_id, CollectionAccount.escalated_at.is_not(None))
        .order_by(CollectionAccount.escalated_at, CollectionAccount.customer_id)
    )
    return list(rows)


def customers_with(session: Session, realm_id: str, ids: Iterable[str]) -> dict[str, CollectionAccount]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.scalars(
        select(CollectionAccount).where(
            CollectionAccount.company_id == realm_id, CollectionAccount.customer_id.in_(wanted)
        )
    )
    return {r.customer_id: r for r in rows}
