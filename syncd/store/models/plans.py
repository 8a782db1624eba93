"""Installment plans: one invoice's open balance split by staff into a down payment and dated
installments, each charged on the customer's autopay method or emailed as a link."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime

SERIAL = BigInteger().with_variant(Integer, "sqlite")


class InstallmentPlan(Base):
    """One plan over one invoice. ``total`` and ``balance`` are the invoice's when the plan was
    made: a later total, or a balance that moved other than by syncd's own payments, suspends it.
    At most one plan per invoice is ACTIVE or SUSPENDED (checked when one is made)."""

    __tablename__ = "installment_plans"
    __table_args__ = (Index("ix_installment_plans_invoice", "company_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Amount())
    balance: Mapped[Decimal] = mapped_column(Amount())
    down: Mapped[Decimal] = mapped_column(Amount())
    count: Mapped[int] = mapped_column(Integer)  # installments after the down payment
    every: Mapped[str] = mapped_column(String(8))  # a Cadence value
    start_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # a PlanStatus value
    status_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PlanInstallment(Base):
    """One dated part of a plan; ``seq`` 0 is the down payment. ``attempt`` counts the charges
    tried (each its own key, ``plan:<realm>:<plan>:<seq>:<attempt>``, also its payment's key)."""

    __tablename__ = "plan_installments"
    __table_args__ = (Index("ix_plan_installments_status", "company_id", "status"),)

    plan_id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    due_on: Mapped[date] = mapped_column(Date)  # the company-local day it falls due
    charge_on: Mapped[date] = mapped_column(Date)  # the next attempt's day (a retry's is later)
    status: Mapped[str] = mapped_column(String(16))  # an InstallmentStatus value
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    payment_method_id: Mapped[str | None] = mapped_column(String(64))
    charged: Mapped[Decimal | None] = mapped_column(Amount())  # what the last attempt sent Stripe
    payment_intent_id: Mapped[str | None] = mapped_column(String(128))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    noticed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    missed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["InstallmentPlan", "PlanInstallment"]
