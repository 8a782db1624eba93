"""What the staff console reads: the overview of a person's companies, the open-invoice list with
its filters, and one customer's page. Read-only; each function is a fixed, small number of
queries whatever the company's size (the overview: three for any number of companies)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from syncd.store.effects import EffectStatus, payload_text
from syncd.store.models import (
    Company,
    CreditHold,
    CustomerRow,
    Effect,
    EntryReview,
    InvoiceRow,
    PaymentRow,
    SavedMethodRow,
)

OPEN_STATUSES = ("open", "partial")
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Attention:
    """One company's line on the overview: what a person may have to look at there."""

    realm_id: str
    name: str
    status: str
    status_reason: str | None
    failed: int = 0
    holds: int = 0
    reviews: int = 0
    open_invoices: int = 0
    overdue: dict[str, Decimal] = field(default_factory=dict)  # currency → overdue balance

    @property
    def paused(self) -> bool:
        return self.status != "active"

    @property
    def needs_a_person(self) -> int:
        return self.failed + self.holds + self.reviews

    def rank(self) -> tuple[int, int, Decimal, str]:
        # Paused first, then the most queued decisions, then the largest overdue (any currency).
        return (
            0 if self.paused else 1,
            -self.needs_a_person,
            -sum(self.overdue.values(), Decimal(0)),
            self.name,
        )


def overview(session: Session, company_ids: Iterable[str], *, today: date) -> list[Attention]:
    """The companies ranked by what needs attention: three queries for any number of them."""
    ids = sorted(set(company_ids))
    if not ids:
        return []
    companies = {c.realm_id: c for c in session.scalars(select(Company).where(Company.realm_id.in_(ids)))}
    counted = union_all(
        select(Effect.company_id, literal("failed"), func.count())
        .where(Effect.company_id.in_(ids), Effect.status == EffectStatus.FAILED.value)
        .group_by(Effect.company_id),
        select(CreditHold.company_id, literal("holds"), func.count())
        .where(CreditHold.company_id.in_(ids), CreditHold.released_at.is_(None))
        .group_by(CreditHold.company_id),
        select(EntryReview.company_id, literal("reviews"), func.count())
        .where(EntryReview.company_id.in_(ids), EntryReview.status == "open")
        .group_by(EntryReview.company_id),
    )
    counts: dict[str, dict[str, int]] = {}
    for realm, what, n in session.execute(counted):
        counts.setdefault(realm, {})[what] = int(n)
    overdue_balance = case((InvoiceRow.due_date < today, InvoiceRow.balance), else_=literal(0))
    sums = session.execute(
        select(InvoiceRow.company_id, InvoiceRow.currency, func.count(), func.sum(overdue_balance))
        .where(InvoiceRow.company_id.in_(ids), InvoiceRow.status.in_(OPEN_STATUSES))
        .group_by(InvoiceRow.company_id, InvoiceRow.currency)
    )
    opened: dict[str, int] = {}
    overdue: dict[str, dict[str, Decimal]] = {}
    for realm, currency, n, total in sums:
        opened[realm] = opened.get(realm, 0) + int(n)
        if total:
            overdue.setdefault(realm, {})[currency] = Decimal(str(total))
    out = [
        Attention(
            realm_id=realm,
            name=company.name or realm,
            status=company.status,
            status_reason=company.status_reason,
            open_invoices=opened.get(realm, 0),
            overdue=overdue.get(realm, {}),
            failed=counts.get(realm, {}).get("failed", 0),
            holds=counts.get(realm, {}).get("holds", 0),
            reviews=counts.get(realm, {}).get("reviews", 0),
        )
        for realm, company in companies.items()
    ]
    return sorted(out, key=Attention.rank)


class InvoiceFilter(enum.StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    PAID = "paid"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    """The invoice list's filters, as the page's form gives them (already validated)."""

    status: InvoiceFilter = InvoiceFilter.OPEN
    search: str = ""
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    page: int = 1
    customer_ids: frozenset[str] | None = None  # a collector's customers only


@dataclass(frozen=True, slots=True)
class InvoicePage:
    rows: Sequence[InvoiceRow]
    total: int
    page: int
    pages: int


def invoices(session: Session, realm_id: str, query: InvoiceQuery, *, today: date) -> InvoicePage:
    """One page of the company's invoices matching ``query``, most overdue first (two queries)."""
    where = [InvoiceRow.company_id == realm_id]
    if query.status is InvoiceFilter.OPEN:
        where.append(InvoiceRow.status.in_(OPEN_STATUSES))
    elif query.status is InvoiceFilter.OVERDUE:
        where += [InvoiceRow.status.in_(OPEN_STATUSES), InvoiceRow.due_date < today]
    elif query.status is InvoiceFilter.PAID:
        where.append(InvoiceRow.status == "paid")
    if query.search:
        like = "%" + query.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(
                func.lower(InvoiceRow.customer_name).like(like, escape="\\"),
                func.lower(InvoiceRow.doc_number).like(like, escape="\\"),
            )
        )
    if query.min_amount is not None:
        where.append(InvoiceRow.balance >= query.min_amount)
    if query.max_amount is not None:
        where.append(InvoiceRow.balance <= query.max_amount)
    if query.customer_ids is not None:
        where.append(InvoiceRow.customer_id.in_(sorted(query.customer_ids)))
    total = int(session.scalar(select(func.count()).select_from(InvoiceRow).where(and_(*where))) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, query.page), pages)
    rows = session.scalars(
        select(InvoiceRow)
        .where(and_(*where))
        .order_by(InvoiceRow.due_date.is_(None), InvoiceRow.due_date, InvoiceRow.qbo_id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return InvoicePage(list(rows), total, page, pages)


@dataclass(frozen=True, slots=True)
class Message:
    """An email or text syncd sent (or will send) the customer."""

    kind: str
    status: str
    at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class CustomerFile:
    """Everything the customer page shows; other areas add their own sections beside it."""

    customer: CustomerRow
    invoices: Sequence[InvoiceRow]
    payments: Sequence[PaymentRow]
    methods: Sequence[SavedMethodRow]
    messages: Sequence[Message]
    hold: CreditHold | None


def customer_file(session: Session, realm_id: str, customer_id: str) -> CustomerFile | None:
    """The customer's invoices, payments, methods on file, messages and credit hold."""
    customer = session.get(CustomerRow, (realm_id, customer_id))
    if customer is None:
        return None
    invoices = list(
        session.scalars(
            select(InvoiceRow)
            .where(InvoiceRow.company_id == realm_id, InvoiceRow.customer_id == customer_id)
            .order_by(InvoiceRow.txn_date.desc(), InvoiceRow.qbo_id)
        )
    )
    payments = list(
        session.scalars(
            select(PaymentRow)
            .where(PaymentRow.company_id == realm_id, PaymentRow.customer_id == customer_id)
            .order_by(PaymentRow.created_at.desc())
        )
    )
    methods = list(
        session.scalars(
            select(SavedMethodRow).where(
                SavedMethodRow.company_id == realm_id,
                SavedMethodRow.qbo_customer_id == customer_id,
                SavedMethodRow.detached_at.is_(None),
            )
        )
    )
    mine = or_(
        payload_text("customer_id") == customer_id,
        payload_text("invoice_id").in_([i.qbo_id for i in invoices] or [""]),
        payload_text("payment_key").in_([p.key for p in payments] or [""]),
    )
    messages = [
        Message(e.kind, e.status, e.done_at or e.created_at, e.key)
        for e in session.scalars(
            select(Effect)
            .where(
                Effect.company_id == realm_id,
                or_(Effect.kind.like("email.%"), Effect.kind.like("sms.%")),
                Effect.kind != "email.staff",
                mine,
            )
            .order_by(Effect.created_at.desc())
            .limit(100)
        )
    ]
    hold = session.scalar(
        select(CreditHold)
        .where(
            CreditHold.company_id == realm_id,
            CreditHold.customer_id == customer_id,
            CreditHold.released_at.is_(None),
        )
        .limit(1)
    )
    return CustomerFile(customer, invoices, payments, methods, messages, hold)


def failed_effects(session: Session, realm_id: str) -> list[Effect]:
    """The company's effects that failed for good, oldest first."""
    return list(
        session.scalars(
            select(Effect)
            .where(Effect.company_id == realm_id, Effect.status == EffectStatus.FAILED.value)
            .order_by(Effect.id)
        )
    )


def held_customers(session: Session, realm_id: str) -> list[tuple[CreditHold, str]]:
    """Customers on credit hold with their display names, oldest hold first."""
    rows = session.execute(
        select(CreditHold, CustomerRow.display_name)
        .outerjoin(
            CustomerRow,
            and_(
                CustomerRow.company_id == CreditHold.company_id, CustomerRow.qbo_id == CreditHold.customer_id
            ),
        )
        .where(CreditHold.company_id == realm_id, CreditHold.released_at.is_(None))
        .order_by(CreditHold.placed_at, CreditHold.customer_id)
    )
    return [(hold, name or hold.customer_id) for hold, name in rows]


@dataclass(frozen=True, slots=True)
class CreditLeft:
    """A charge booked partly or wholly as customer credit (what syncd emailed staff about)."""

    at: datetime
    text: str


def credits_left(session: Session, realm_id: str, *, since: datetime) -> list[CreditLeft]:
    """Charges left as customer credit since ``since``, newest first: a person applies the credit
    to another invoice or refunds it in QuickBooks (syncd's staff email said which)."""
    rows = session.scalars(
        select(Effect)
        .where(
            Effect.company_id == realm_id,
            Effect.kind == "email.staff",
            Effect.key.like("email:staff:credit:%"),
            Effect.created_at >= since,
        )
        .order_by(Effect.created_at.desc())
        .limit(100)
    )
    return [CreditLeft(e.created_at, str(e.payload.get("body", ""))) for e in rows]


@dataclass(frozen=True, slots=True)
class TextsSeen:
    """How the company's texts went lately: the last one Twilio took and the last that failed
    for good (with why), for the Twilio line of the health page (one query)."""

    last_sent_at: datetime | None
    last_failed_at: datetime | None
    last_error: str | None

    @property
    def failing(self) -> bool:
        """The most recent text to finish failed for good."""
        return self.last_failed_at is not None and (
            self.last_sent_at is None or self.last_failed_at >= self.last_sent_at
        )


def texts_seen(session: Session, realm_id: str, kind: str) -> TextsSeen:
    """The company's latest finished text effect of each outcome (``kind``: the texts' effect kind)."""
    finished = [EffectStatus.DONE.value, EffectStatus.FAILED.value]
    rows = session.execute(
        select(Effect.status, Effect.done_at, Effect.last_error)
        .where(Effect.company_id == realm_id, Effect.kind == kind, Effect.status.in_(finished))
        .order_by(Effect.done_at.desc(), Effect.id.desc())
        .limit(50)
    ).all()
    sent = next((r.done_at for r in rows if r.status == EffectStatus.DONE.value), None)
    failed = next((r for r in rows if r.status == EffectStatus.FAILED.value), None)
    return TextsSeen(sent, failed.done_at if failed else None, failed.last_error if failed else None)
