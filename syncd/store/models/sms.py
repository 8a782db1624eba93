"""Texting: each customer's number with the consent it was given under, and every text sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Base, UtcDateTime


class TextNumber(Base):
    """The number a customer is texted at (E.164) and the consent behind it: where it was given
    (``portal`` checkbox, or ``qbo_mobile`` attested by the company), the words agreed to, when,
    from which IP and browser. ``opted_out_at`` set (a STOP) ends every text until a START."""

    __tablename__ = "sms_numbers"
    __table_args__ = (Index("ix_sms_numbers_number", "company_id", "number"),)

    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(16))
    consent_text: Mapped[str] = mapped_column(String(500))
    consented_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TextRow(Base):
    """One text, by its effect key: to whom, Twilio's sid once accepted, its last status."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_sid", "sid"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"))
    customer_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(20))
    sid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # a ports.sms.TextStatus value
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["TextNumber", "TextRow"]
