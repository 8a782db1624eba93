"""The customer account's sign-in: single-use tokens, signed-in browsers and passkeys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Base, UtcDateTime


class AccountToken(Base):
    """A single-use secret of the customer account: an emailed sign-in link (``kind`` "email") or
    a passkey challenge. Only its SHA-256 is kept; ``browser`` is the digest of the cookie of the
    browser that asked, so the link works there only. Rows are also the rate-limit ledger."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        Index("ix_account_tokens_email", "kind", "email", "created_at"),
        Index("ix_account_tokens_ip", "kind", "ip_digest", "created_at"),
    )

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(320))
    ip_digest: Mapped[str | None] = mapped_column(String(64))
    browser: Mapped[str | None] = mapped_column(String(64))
    # Whom a sign-in link is for (None: no QBO customer has the address; nothing was sent).
    known: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AccountSession(Base):
    """A signed-in browser, keyed by the SHA-256 of its cookie. ``email`` is the person (signed
    in by link or passkey); ``scope_*`` pins a session opened from one invoice link to that one
    customer. ``company_id``/``customer_id`` is the account being looked at."""

    __tablename__ = "account_sessions"
    __table_args__ = (Index("ix_account_sessions_email", "email"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    scope_company_id: Mapped[str | None] = mapped_column(String(32))
    scope_customer_id: Mapped[str | None] = mapped_column(String(32))
    company_id: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Passkey(Base):
    """A WebAuthn credential a person registered; it signs in as ``email``."""

    __tablename__ = "passkeys"
    __table_args__ = (Index("ix_passkeys_email", "email"),)

    credential_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
