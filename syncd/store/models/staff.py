"""The staff: people who sign in to the console, and their role in each company they serve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from syncd.domain.staff import StaffRole
from syncd.store.models.types import Base, UtcDateTime


class StaffUser(Base):
    """A person on the staff side, known by email. The password is an argon2 hash; the TOTP
    secret is sealed (``store.sealed``); ``disabled_at`` ends every session at once."""

    __tablename__ = "staff_users"
    __table_args__ = (Index("ix_staff_users_email", "email", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164, for collectors
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StaffMembership(Base):
    """One staff member's role in one company; an accounting firm's staff hold several."""

    __tablename__ = "staff_memberships"

    staff_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # a StaffRole value
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["StaffMembership", "StaffRole", "StaffUser"]
