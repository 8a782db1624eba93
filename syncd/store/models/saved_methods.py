"""Payment methods customers keep at Stripe, the consent given for each, and card-on-file requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Base, UtcDateTime


class SavedMethodRow(Base):
    """A card or bank account a customer keeps at Stripe, as the payment-method events told us
    (no card data: brand, last 4, expiry, bank name). ``detached_at`` once it is removed."""

    __tablename__ = "saved_methods"
    __table_args__ = (Index("ix_saved_methods_customer", "company_id", "qbo_customer_id"),)

    payment_method_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    qbo_customer_id: Mapped[str] = mapped_column(String(32))
    stripe_customer_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    brand: Mapped[str | None] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    bank_name: Mapped[str | None] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    attached_at: Mapped[datetime] = mapped_column(UtcDateTime())
    detached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MethodConsent(Base):
    """What a customer agreed to when saving a method: the exact text shown, when, from where.
    ``reference`` is the card request's or payment's key; ``payment_method_id`` once known."""

    __tablename__ = "method_consents"
    __table_args__ = (Index("ix_method_consents_customer", "company_id", "qbo_customer_id"),)

    reference: Mapped[str] = mapped_column(String(200), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    qbo_customer_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    payment_method_id: Mapped[str | None] = mapped_column(String(64))


class CardRequest(Base):
    """A "put a card on file" link sent to a customer: only the SHA-256 of its token is kept."""

    __tablename__ = "card_requests"
    __table_args__ = (UniqueConstraint("request_key"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_key: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[str] = mapped_column(String(32))
    qbo_customer_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The setup-mode Checkout of the latest click (``attempts`` numbers them for their keys).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    checkout_session_id: Mapped[str | None] = mapped_column(String(128))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    checkout_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    payment_method_id: Mapped[str | None] = mapped_column(String(64))
