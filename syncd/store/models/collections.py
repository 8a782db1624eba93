"""The collections tables (revision 0018): who collects each overdue account, what collectors
recorded (notes, calls, promises, offline payments), disputed invoices and small-debt write-offs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime

SERIAL = BigInteger().with_variant(Integer, "sqlite")


class CollectionAccount(Base):
    """A customer's place on the escalation ladder: past the last reminder step since
    ``escalated_at``, collected by ``collector`` (a staff email) since ``assigned_at``, and why
    syncd put them on credit hold (the hold itself is a ``credit_holds`` row)."""

    __tablename__ = "collection_accounts"
    __table_args__ = (Index("ix_collection_accounts_collector", "company_id", "collector"),)

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    collector: Mapped[str | None] = mapped_column(String(320))
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    assigned_by: Mapped[str | None] = mapped_column(String(320))  # "rule" or the staff email
    hold_reason: Mapped[str | None] = mapped_column(String(200))


class CollectionActivity(Base):
    """One thing that happened on an account, newest last: the history a collector reads."""

    __tablename__ = "collection_activities"
    __table_args__ = (Index("ix_collection_activities_customer", "company_id", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"))
    customer_id: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # an ActivityKind value
    outcome: Mapped[str | None] = mapped_column(String(16))  # a CallOutcome value, for calls
    body: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(320))  # staff email, or "syncd"
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class PaymentPromise(Base):
    """A customer's promise to pay ``amount`` by ``promised_on``; ``owed_at_promise`` is what they
    owed overdue then, so keeping it means owing at most that less the amount on the date."""

    __tablename__ = "payment_promises"
    __table_args__ = (Index("ix_payment_promises_status", "company_id", "status", "promised_on"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"))
    customer_id: Mapped[str] = mapped_column(String(32))
    promised_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount())
    owed_at_promise: Mapped[Decimal] = mapped_column(Amount())
    status: Mapped[str] = mapped_column(String(16))  # a PromiseStatus value
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OfflinePayment(Base):
    """A check, cash or other payment a collector took, booked as a QBO Payment by the effect
    ``qbo:offline_payment:<realm>:<request_id>``; ``qbo_payment_id`` once it is. ``request_id``
    names the form submission, so submitting it twice records one payment."""

    __tablename__ = "offline_payments"
    __table_args__ = (UniqueConstraint("company_id", "request_id"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"))
    customer_id: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))  # an OfflineMethod value
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(100), default="")
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    qbo_payment_id: Mapped[str | None] = mapped_column(String(32))


class DisputedInvoice(Base):
    """An invoice the customer disputes: no reminder asks for it until ``closed_at``."""

    __tablename__ = "disputed_invoices"

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_by: Mapped[str] = mapped_column(String(320))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WriteOff(Base):
    """A small debt proposed for write-off, and staff's decision; approved, the QBO entry is the
    effect ``qbo:write_off:<realm>:<id>``."""

    __tablename__ = "write_offs"
    __table_args__ = (Index("ix_write_offs_status", "company_id", "status"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"))
    customer_id: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # a WriteOffStatus value
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    qbo_id: Mapped[str | None] = mapped_column(String(32))
