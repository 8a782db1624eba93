"""The QBO mirror: customers and invoices, and each invoice's portal link."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime


class CustomerRow(Base):
    __tablename__ = "customers"

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    mobile: Mapped[str | None] = mapped_column(String(64))  # 0017: QBO's Mobile, for attested texts


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_company_status", "company_id", "status"),)

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    doc_number: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(500), default="")
    currency: Mapped[str] = mapped_column(String(3))
    txn_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Amount())
    balance: Mapped[Decimal] = mapped_column(Amount())
    tax: Mapped[Decimal] = mapped_column(Amount())
    lines: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    sync_token: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    memo: Mapped[str | None] = mapped_column(Text)
    qbo_updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    mirrored_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PortalLink(Base):
    """A link is an HMAC of (company, invoice): only its SHA-256 is stored, for lookup."""

    __tablename__ = "portal_links"
    __table_args__ = (UniqueConstraint("company_id", "invoice_id"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The latest reminder step (days after due) a customer message covered or the first sync
    # skipped; a step is sent only when it is later than this.
    reminded_step: Mapped[int | None] = mapped_column(Integer)


# An invoice joined to its portal link (at most one: company and invoice are unique together).
LINK_OF_INVOICE = (PortalLink.company_id == InvoiceRow.company_id) & (
    PortalLink.invoice_id == InvoiceRow.qbo_id
)
