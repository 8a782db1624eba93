"""The account page's reads in three statements, whatever the number of invoices: (1) the session
with its customer, company name, credit-hold flag and how many accounts the person has; (2) the
customer's invoices; (3) the customer's payments together with the company's open entry reviews,
the customer's saved payment methods (``methods_of`` unpacks those) and the method changes still
waiting on Stripe (``changing``).

Runs in the caller's transaction; nothing here decides what may be seen (the stage does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, String, and_, case, cast, exists, func, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased

from syncd.domain.reviews import ReviewStatus
from syncd.ports.account import MethodItem
from syncd.store.effects import EffectStatus, payload_text
from syncd.store.models import (
    AccountSession,
    CardAuthorizationRow,
    Company,
    CreditHold,
    CustomerRow,
    Effect,
    EntryReview,
    InstallmentPlan,
    InvoiceRow,
    PaymentRow,
    RecurringRow,
    SavedMethodRow,
)


@dataclass(frozen=True, slots=True)
class Head:
    """The session row (attached, so it can be touched), what it looks at and around it."""

    session: AccountSession
    customer: CustomerRow | None
    company_name: str | None
    on_hold: bool
    accounts: int
    recurring: bool  # the customer has recurring templates (read only then: most have none)
    plans: bool = False  # the customer has installment plans (read only then, likewise)
    authorizations: bool = False  # card authorisations were placed (read only then)


@dataclass(frozen=True, slots=True)
class Movement:
    """A payment of the customer (``source`` "payment") or an entry review of the company."""

    source: str
    key: str
    invoice_ids: list[str]
    status: str
    amount: Decimal
    currency: str
    method: str | None
    updated_at: datetime
    qbo_payment_id: str | None


def head(session: Session, session_digest: str) -> Head | None:
    other = aliased(CustomerRow)
    hold = exists().where(
        CreditHold.company_id == AccountSession.company_id,
        CreditHold.customer_id == AccountSession.customer_id,
        CreditHold.released_at.is_(None),
    )
    accounts = (
        select(func.count())
        .where(
            func.lower(other.email) == AccountSession.email,
            other.deleted.is_(False),
            other.active.is_(True),
        )
        .scalar_subquery()
    )
    recurring = exists().where(
        RecurringRow.company_id == AccountSession.company_id,
        RecurringRow.customer_id == AccountSession.customer_id,
        RecurringRow.gone_at.is_(None),
    )
    planned = exists().where(
        InstallmentPlan.company_id == AccountSession.company_id,
        InstallmentPlan.customer_id == AccountSession.customer_id,
    )
    authorized = exists().where(
        CardAuthorizationRow.company_id == AccountSession.company_id,
        CardAuthorizationRow.customer_id == AccountSession.customer_id,
    )
    row = session.execute(
        select(AccountSession, CustomerRow, Company.name, hold, accounts, recurring, planned, authorized)
        .outerjoin(
            CustomerRow,
            and_(
                CustomerRow.company_id == AccountSession.company_id,
                CustomerRow.qbo_id == AccountSession.customer_id,
            ),
        )
        .outerjoin(Company, Company.realm_id == AccountSession.company_id)
        .where(AccountSession.digest == session_digest)
    ).first()
    if row is None:
        return None
    return Head(
        row[0], row[1], row[2], bool(row[3]), int(row[4] or 0), bool(row[5]), bool(row[6]), bool(row[7])
    )


def invoices(session: Session, realm_id: str, customer_id: str) -> list[InvoiceRow]:
    return list(
        session.scalars(
            select(InvoiceRow)
            .where(InvoiceRow.company_id == realm_id, InvoiceRow.customer_id == customer_id)
            .order_by(InvoiceRow.due_date, InvoiceRow.qbo_id)
        )
    )


def movements(
    session: Session, realm_id: str, customer_id: str, changing_kinds: tuple[str, ...] = ()
) -> list[Movement]:
    """The customer's payments (newest first), then the company's open and rebooked reviews."""
    pays = select(
        literal("payment").label("source"),
        PaymentRow.key.label("key"),
        PaymentRow.invoice_ids.label("invoice_ids"),
        PaymentRow.status.label("status"),
        PaymentRow.amount.label("amount"),
        PaymentRow.currency.label("currency"),
        PaymentRow.method.label("method"),
        PaymentRow.updated_at.label("updated_at"),
        PaymentRow.qbo_payment_id.label("qbo_payment_id"),
    ).where(PaymentRow.company_id == realm_id, PaymentRow.customer_id == customer_id)
    held = select(
        literal("review"),
        EntryReview.payment_key,
        EntryReview.invoice_ids,
        EntryReview.status,
        EntryReview.amount,
        EntryReview.currency,
        literal(None, String),
        EntryReview.detected_at,
        EntryReview.qbo_payment_id,
    ).where(
        EntryReview.company_id == realm_id,
        EntryReview.status.in_([ReviewStatus.OPEN.value, ReviewStatus.REBOOKED.value]),
    )
    # A saved method rides in the same statement: kind in ``status``, last 4 in ``currency``,
    # brand in ``method``, bank name or "month/year" in ``qbo_payment_id``.
    expiry = (
        func.coalesce(cast(SavedMethodRow.exp_month, String), "")
        + "/"
        + func.coalesce(cast(SavedMethodRow.exp_year, String), "")
    )
    kept = select(
        case((SavedMethodRow.is_default.is_(True), literal("method:default")), else_=literal("method")),
        SavedMethodRow.payment_method_id,
        cast(null(), JSON),
        SavedMethodRow.kind,
        literal(Decimal(0), PaymentRow.amount.type),
        SavedMethodRow.last4,
        SavedMethodRow.brand,
        SavedMethodRow.attached_at,
        func.coalesce(SavedMethodRow.bank_name, expiry),
    ).where(
        SavedMethodRow.company_id == realm_id,
        SavedMethodRow.qbo_customer_id == customer_id,
        SavedMethodRow.detached_at.is_(None),
    )
    # A method change still waiting on Stripe (an effect of ``changing_kinds``, pending) rides too,
    # its method id in ``currency``; ``changing`` keeps those of this customer's methods.
    waiting = select(
        literal("changing"),
        Effect.key,
        cast(null(), JSON),
        Effect.kind,
        literal(Decimal(0), PaymentRow.amount.type),
        payload_text("method_id"),
        literal(None, String),
        Effect.created_at,
        literal(None, String),
    ).where(
        Effect.status == EffectStatus.PENDING.value,
        Effect.company_id == realm_id,
        Effect.kind.in_(changing_kinds),
    )
    both = union_all(pays, held, kept, waiting).subquery()
    rows = session.execute(select(both).order_by(both.c.source, both.c.updated_at.desc())).all()
    return [Movement(*row) for row in rows]


def methods_of(found: list[Movement]) -> list[MethodItem]:
    """The saved methods among ``movements``, oldest first (``changing`` is the stage's to mark)."""
    out = []
    for m in sorted((m for m in found if m.source.startswith("method")), key=lambda m: (m.updated_at, m.key)):
        month, _, year = (m.qbo_payment_id or "").partition("/")
        card = m.status == "card"
        out.append(
            MethodItem(
                method_id=m.key,
                kind=m.status,
                brand=m.method,
                last4=m.currency,
                exp_month=int(month) if card and month.isdigit() else None,
                exp_year=int(year) if card and year.isdigit() else None,
                bank_name=None if card or m.qbo_payment_id == "/" else m.qbo_payment_id,
                is_default=m.source == "method:default",
            )
        )
    return out


def changing(found: list[Movement]) -> set[str]:
    """The customer's saved methods with a change still waiting on Stripe."""
    mine = {m.key for m in found if m.source.startswith("method")}
    return {m.currency for m in found if m.source == "changing" and m.currency in mine}


def held(found: list[Movement]) -> set[str]:
    """Invoices not to offer for payment (as ``reviews.held_invoices``): those of an open review,
    and of a rebooked one until syncd has written its Payment again."""
    by_key = {m.key: m for m in found if m.source == "payment"}
    out: set[str] = set()
    for m in found:
        if m.source != "review":
            continue
        if m.status == ReviewStatus.REBOOKED.value:
            pay = by_key.get(m.key)
            if pay is None or pay.qbo_payment_id is not None:
                continue
        out.update(m.invoice_ids)
    return out
