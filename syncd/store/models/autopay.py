"""Autopay: who is enrolled with which method, each automatic charge attempt, and the emailed
one-click links that skip a charge or turn autopay off."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime


class AutopayEnrollment(Base):
    """One customer's standing authorisation to charge ``payment_method_id``. The exact text
    agreed to, when and from where is the ``MethodConsent`` row named ``consent_reference``;
    ``stopped_at`` once turned off (by the customer, a hard decline or a removed method), and a
    new enrollment writes a new consent."""

    __tablename__ = "autopay_enrollments"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    payment_method_id: Mapped[str] = mapped_column(String(64))
    cap: Mapped[Decimal | None] = mapped_column(Amount())  # per charge; over it the link is emailed
    consent_reference: Mapped[str] = mapped_column(String(200))
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AutopayCharge(Base):
    """One planned or made attempt to charge one invoice balance. ``key`` is also the payment's
    key (``payments.key``) and the Stripe idempotency key; the unique (invoice, balance, attempt)
    makes a second charge of the same balance impossible to even plan."""

    __tablename__ = "autopay_charges"
    __table_args__ = (
        UniqueConstraint("company_id", "invoice_id", "balance", "attempt"),
        Index("ix_autopay_charges_status", "company_id", "status"),
    )

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str] = mapped_column(String(32))
    balance: Mapped[Decimal] = mapped_column(Amount())  # the balance the notice announced
    currency: Mapped[str] = mapped_column(String(3))
    attempt: Mapped[int] = mapped_column(Integer)
    charge_on: Mapped[date] = mapped_column(Date)  # the company-local day it is charged
    status: Mapped[str] = mapped_column(String(16))  # a ChargeStatus value
    payment_method_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal | None] = mapped_column(Amount())  # what was sent to Stripe
    payment_intent_id: Mapped[str | None] = mapped_column(String(128))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AutopayLink(Base):
    """A one-click link of a notice: ``purpose`` "skip" (this charge) or "stop" (autopay). Only
    the SHA-256 of its token is kept; ``used_at`` once acted on."""

    __tablename__ = "autopay_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(8))
    company_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32))
    charge_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


__all__ = ["AutopayCharge", "AutopayEnrollment", "AutopayLink"]
