"""The money: payments, Stripe money movements and their QBO entries, entries under review, credit holds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime


class PaymentRow(Base):
    """One attempt to pay (a Checkout Session), keyed by syncd's payment key."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_intent", "payment_intent_id"),
        Index("ix_payments_session", "checkout_session_id"),
        Index("ix_payments_company_status", "company_id", "status"),
    )

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32))
    invoice_ids: Mapped[list[str]] = mapped_column(JSON)
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    checkout_session_id: Mapped[str | None] = mapped_column(String(128))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    payment_intent_id: Mapped[str | None] = mapped_column(String(128))
    method: Mapped[str | None] = mapped_column(String(32))
    # What its Checkout Session offers: a session offering bank debit is not reused on credit hold.
    offered_methods: Mapped[list[str] | None] = mapped_column(JSON)
    qbo_payment_id: Mapped[str | None] = mapped_column(String(32))
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CreditHold(Base):
    """A customer who may no longer pay by bank debit, until staff release them. One row per hold
    ever placed; ``seq`` numbers a customer's holds (1 for the first), so two placements racing
    for the same hold collide on the key."""

    __tablename__ = "credit_holds"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    strikes_at_placement: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # All the customer's strikes when released: only strikes after it count towards a new hold.
    strikes_at_release: Mapped[int | None] = mapped_column(Integer)


class MoneyMovement(Base):
    """A Stripe balance transaction and the QBO entry syncd made for it."""

    __tablename__ = "money_movements"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Amount())
    fee: Mapped[Decimal] = mapped_column(Amount())
    net: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    created: Mapped[datetime] = mapped_column(UtcDateTime())
    payout_id: Mapped[str | None] = mapped_column(String(128))
    qbo_entries: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class EntryReview(Base):
    """A QBO Payment syncd wrote that someone deleted, voided or changed in QBO: its invoices are
    not offered for payment until staff rebook the entry or release them. One row per entry ever
    flagged, so a re-read of the same change flags nothing twice."""

    __tablename__ = "entry_reviews"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    qbo_payment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    payment_key: Mapped[str] = mapped_column(String(128))
    payment_intent_id: Mapped[str | None] = mapped_column(String(128))
    invoice_ids: Mapped[list[str]] = mapped_column(JSON)
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    change: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
