"""The two queues: raw webhook events in the inbox and remote side effects in the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Base, UtcDateTime


class InboxEvent(Base):
    """Raw webhook bodies, stored before answering 2xx; deduplicated by (source, event_id)."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index("ix_inbox_pending", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    company_id: Mapped[str | None] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Effect(Base):
    """The outbox: a remote side effect, recorded before it happens, performed under its key."""

    __tablename__ = "effects"
    __table_args__ = (
        Index("ix_effects_due", "status", "priority", "next_attempt_at"),
        Index("ix_effects_serial", "serial_group", "status"),
        Index("ix_effects_company_kind", "company_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=5)
    company_id: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    remote_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Effects of one group (one customer's invoices and credit) run one after another.
    serial_group: Mapped[str | None] = mapped_column(String(200))
    # When a must-book effect first met an error it cannot outwait (listed until it is done).
    held_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
