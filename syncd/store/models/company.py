"""The companies and what syncd keeps per company: secrets, cursors, books accounts, leases, QBO connects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from syncd.store.models.types import Base, UtcDateTime


class Company(Base):
    __tablename__ = "companies"

    realm_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    home_currency: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Why a person is needed: the refused credential (``errors.Credential``), when, and a digest of
    # the credential as it was then, so syncd resumes by itself once it changed.
    pause_credential: Mapped[str | None] = mapped_column(String(32))
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    pause_fingerprint: Mapped[str | None] = mapped_column(String(64))
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # When notify settled the open invoices the company had at its first sync (``first_sync``);
    # None until then, so only that one pass treats what it finds as backlog.
    first_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NamedPerCompany:
    """A value kept per company under a name and overwritten in place (secrets, cursors)."""

    # The key first and updated_at last, in the order the tables were created (0001).
    company_id: Mapped[str] = mapped_column(String(32), primary_key=True, sort_order=-1)
    name: Mapped[str] = mapped_column(String(64), primary_key=True, sort_order=-1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), sort_order=1)


class Secret(NamedPerCompany, Base):
    """Encrypted at rest (Fernet); ``name`` is e.g. ``qbo_tokens``."""

    __tablename__ = "secrets"

    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ConnectAttempt(Base):
    """A ``syncd connect quickbooks`` waiting for its OAuth redirect, which the running daemon may
    receive: the state is kept hashed; the daemon records the connected realm or the error."""

    __tablename__ = "connect_attempts"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    realm_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Cursor(NamedPerCompany, Base):
    __tablename__ = "cursors"

    value: Mapped[str] = mapped_column(Text)


class BooksAccount(Base):
    """A QBO account (or vendor, or payment method) the books post to in one currency, by role:
    found or created once by account setup (``store.books_accounts``), then read from here."""

    __tablename__ = "books_accounts"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Lease(Base):
    """A named lock with an expiry: company ownership, token refresh. Survives nothing but time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
