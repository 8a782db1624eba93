"""Recurring services: the mirror of each company's QBO recurring invoice templates, and the
one-click links of trial reminders (only their SHA-256 is kept)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime


class RecurringRow(Base):
    """One QBO recurring invoice template as the last read saw it. ``kind`` is ``trial`` until QBO
    made its first invoice; ``action`` is what the customer asked of it (pause, cancel) and
    ``action_at`` when; ``gone_at`` is set when QBO no longer has it."""

    __tablename__ = "recurring_templates"
    __table_args__ = (Index("ix_recurring_templates_customer", "company_id", "customer_id"),)

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean)
    automated: Mapped[bool] = mapped_column(Boolean)
    interval: Mapped[str] = mapped_column(String(8))
    every: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    next_date: Mapped[date | None] = mapped_column(Date)
    previous_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    max_occurrences: Mapped[int | None] = mapped_column(Integer)
    day_of_month: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # a RecurKind value
    sync_token: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(16))  # a RecurAction value
    action_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    pulled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    gone_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RecurringLink(Base):
    """A trial reminder's one-click link: an HMAC of (company, template, first date), recomputed
    for the email and never stored; ``choice`` (continue, cancel) is set once, when used."""

    __tablename__ = "recurring_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"))
    template_id: Mapped[str] = mapped_column(String(32))
    first_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    choice: Mapped[str | None] = mapped_column(String(16))
    chosen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


__all__ = ["RecurringLink", "RecurringRow"]
