"""Staff passkeys: the WebAuthn credentials a staff member registered, and the ceremonies'
single-use challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Base, UtcDateTime


class StaffPasskey(Base):
    """A passkey of one staff member; it signs them in without a password or TOTP code."""

    __tablename__ = "staff_passkeys"
    __table_args__ = (Index("ix_staff_passkeys_staff_id", "staff_id"),)

    credential_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StaffPasskeyChallenge(Base):
    """A challenge the console sent (its SHA-256), for registering (``staff_id`` set) or signing
    in (no one yet); used up by the one answer that presents it, dead after ``expires_at``."""

    __tablename__ = "staff_passkey_challenges"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "register" or "sign-in"
    staff_id: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


__all__ = ["StaffPasskey", "StaffPasskeyChallenge"]
