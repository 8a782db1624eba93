"""The staff: people who sign in to the console, and their role in each company they serve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String
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
    # A password the CLI printed once: the console asks for a new one before anything else.
    password_temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    # The 30-second TOTP step of the last code accepted: a code is good once, never replayed.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class StaffMembership(Base):
    """One staff member's role in one company; an accounting firm's staff hold several."""

    __tablename__ = "staff_memberships"

    staff_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[str] = mapped_column(String(32), ForeignKey("companies.realm_id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # a StaffRole value
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StaffSession(Base):
    """A signed-in browser, keyed by the SHA-256 of its cookie (the cookie itself is never stored).
    ``totp_pending`` while the password was right but the second factor is still owed."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_staff_id", "staff_id"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"))
    totp_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StaffSignInAttempt(Base):
    """One failed sign-in, by email and address: what the rate limit counts."""

    __tablename__ = "staff_sign_in_attempts"
    __table_args__ = (
        Index("ix_staff_sign_in_attempts_email", "email", "at"),
        Index("ix_staff_sign_in_attempts_ip", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class StaffAction(Base):
    """What a staff member did in the console: who, what, when, in which company, to what. The
    email is copied so the record outlives the user."""

    __tablename__ = "staff_actions"
    __table_args__ = (Index("ix_staff_actions_company_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(Integer)
    staff_email: Mapped[str] = mapped_column(String(320))
    company_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = [
    "StaffAction",
    "StaffMembership",
    "StaffRole",
    "StaffSession",
    "StaffSignInAttempt",
    "StaffUser",
]
