"""Card authorisations: a hold staff place on a customer's saved card before a job, captured by
the customer's next invoice or released unused."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Amount, Base, UtcDateTime


class CardAuthorizationRow(Base):
    """One authorisation. ``id`` names it in the CLI and every effect key made for it
    (``stripe:authorize:<id>``, ``stripe:capture:<id>:<invoice>``, ``stripe:release:<id>``); ``payment_key``
    is the syncd payment its capture books. ``known_invoice_ids`` are the customer's invoices
    mirrored when it was placed: only a later one is captured from it."""

    __tablename__ = "card_authorizations"
    __table_args__ = (Index("ix_card_authorizations_status", "company_id", "status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # an AuthorizationStatus value
    payment_method_id: Mapped[str] = mapped_column(String(64))
    stripe_customer_id: Mapped[str] = mapped_column(String(64))
    payment_intent_id: Mapped[str | None] = mapped_column(String(128))
    known_invoice_ids: Mapped[list[str]] = mapped_column(JSON)
    placed_on: Mapped[date] = mapped_column(Date)  # company-local day: invoices dated before it never match
    release_at: Mapped[datetime] = mapped_column(UtcDateTime())  # released unused from then on
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the network's limit (Stripe)
    invoice_id: Mapped[str | None] = mapped_column(String(32))  # the invoice captured from it
    payment_key: Mapped[str | None] = mapped_column(String(128))
    captured_amount: Mapped[Decimal | None] = mapped_column(Amount())  # what was sent to capture
    decline_code: Mapped[str | None] = mapped_column(String(64))
    release_reason: Mapped[str | None] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    captured_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["CardAuthorizationRow"]
