"""Customer account sign-in state: single-use tokens, server-side sessions, passkeys.

Contract:
- Nothing here stores a secret a browser could present: tokens and session ids are kept as their
  SHA-256 (``digest``); the secret itself exists only in the email, the cookie or the browser.
- ``consume`` is single-use under concurrency: it marks the token used with a conditional UPDATE,
  so of two racing presses exactly one gets the row.
- Sessions end by idle time (``IDLE``), absolute age (``ABSOLUTE``), sign-out (one) or sign-out
  everywhere (every session of the person, and of the invoice-link sessions of their customer).
- Every function runs in the caller's transaction.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from syncd.store.models import AccountSession, AccountToken, CustomerRow, Passkey

LINK_LIFETIME = timedelta(minutes=15)
CHALLENGE_LIFETIME = timedelta(minutes=5)
# The passkey ceremonies' single-use challenges (``syncd.stages.passkeys``).


class TokenKind(enum.StrEnum):
    """What an ``account_tokens`` row is: a sign-in link, a passkey challenge, or a rate-limit mark."""

    SIGN_IN_LINK = "email"
    PASSKEY_REGISTER = "pk-register"
    PASSKEY_SIGN_IN = "pk-sign-in"
    CARD_PRESS = "card-press"  # a press of a card-request link's button (its digest in ``email``)


CHALLENGE_KINDS = (TokenKind.PASSKEY_REGISTER, TokenKind.PASSKEY_SIGN_IN)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
# Writing last_seen on every page would make every read a write; a minute of slack is harmless.
TOUCH_EVERY = timedelta(minutes=1)
RATE_WINDOW = timedelta(minutes=15)
PER_ADDRESS = 3
PER_IP = 10
# The purpose of the key that digests IP addresses (``ip_digest``).
IP_PURPOSE = "account-ip"
# Spent tokens and ended sessions are kept this long (for support questions), then deleted.
KEEP = timedelta(days=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def normal_email(address: str) -> str:
    return address.strip().lower()


def customers_for(session: Session, email: str) -> list[CustomerRow]:
    """The live QBO customers, at any company, whose billing email is ``email``."""
    return list(
        session.scalars(
            select(CustomerRow)
            .where(
                func.lower(CustomerRow.email) == normal_email(email),
                CustomerRow.deleted.is_(False),
                CustomerRow.active.is_(True),
            )
            .order_by(CustomerRow.company_id, CustomerRow.display_name, CustomerRow.qbo_id)
        )
    )


def ip_digest(key: bytes, ip: str) -> str:
    """An IP address as the ledger keeps it: keyed, so it cannot be reversed by hashing every
    IPv4 address."""
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


def recent_requests(
    session: Session, *, email: str, ip_digest: str, now: datetime, kind: TokenKind = TokenKind.SIGN_IN_LINK
) -> tuple[int, int]:
    """Rows of ``kind`` asked for this subject (``email``: the address of a sign-in link, the
    card request of a card-page press) and from this IP within the rate window."""
    since = now - RATE_WINDOW
    by_email = session.scalar(
        select(func.count()).where(
            AccountToken.kind == kind, AccountToken.email == email, AccountToken.created_at > since
        )
    )
    by_ip = session.scalar(
        select(func.count()).where(
            AccountToken.kind == kind, AccountToken.ip_digest == ip_digest, AccountToken.created_at > since
        )
    )
    return int(by_email or 0), int(by_ip or 0)


def record_token(
    session: Session,
    *,
    token_digest: str,
    kind: TokenKind,
    now: datetime,
    lifetime: timedelta,
    email: str | None = None,
    ip_digest: str | None = None,
    browser: str | None = None,
    known: bool = False,
) -> None:
    session.add(
        AccountToken(
            digest=token_digest,
            kind=kind,
            email=email,
            ip_digest=ip_digest,
            browser=browser,
            known=known,
            created_at=now,
            expires_at=now + lifetime,
        )
    )


def consume(session: Session, token_digest: str, kind: TokenKind, now: datetime) -> AccountToken | None:
    """The live token, now marked used; None when unknown, used, expired or of another kind."""
    result = session.execute(
        update(AccountToken)
        .where(
            AccountToken.digest == token_digest,
            AccountToken.kind == kind,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return session.get(AccountToken, token_digest)


def peek(session: Session, token_digest: str, kind: TokenKind, now: datetime) -> AccountToken | None:
    """The live token without using it up."""
    row = session.get(AccountToken, token_digest)
    if row is None or row.kind != kind or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def open_session(
    session: Session,
    *,
    session_digest: str,
    now: datetime,
    email: str | None = None,
    scope: tuple[str, str] | None = None,
) -> AccountSession:
    row = AccountSession(
        digest=session_digest,
        email=email,
        scope_company_id=scope[0] if scope else None,
        scope_customer_id=scope[1] if scope else None,
        company_id=scope[0] if scope else None,
        customer_id=scope[1] if scope else None,
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    return row


def live(row: AccountSession | None, now: datetime) -> bool:
    return (
        row is not None
        and row.revoked_at is None
        and row.last_seen_at + IDLE > now
        and row.created_at + ABSOLUTE > now
    )


def touch(row: AccountSession, now: datetime) -> None:
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now


def revoke(session: Session, session_digest: str, now: datetime) -> None:
    session.execute(
        update(AccountSession)
        .where(AccountSession.digest == session_digest, AccountSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_everywhere(session: Session, row: AccountSession, now: datetime) -> int:
    """End every session of this person (by email), or of this customer when the session came
    from an invoice link."""
    stmt = update(AccountSession).where(AccountSession.revoked_at.is_(None))
    if row.email is not None:
        stmt = stmt.where(AccountSession.email == row.email)
    else:
        stmt = stmt.where(
            AccountSession.scope_company_id == row.scope_company_id,
            AccountSession.scope_customer_id == row.scope_customer_id,
        )
    result = session.execute(stmt.values(revoked_at=now))
    return int(getattr(result, "rowcount", 0))


def passkeys_of(session: Session, email: str) -> list[Passkey]:
    return list(session.scalars(select(Passkey).where(Passkey.email == email).order_by(Passkey.created_at)))


def purge(session: Session, now: datetime) -> int:
    """Delete what can sign no one in and is past use; how many rows went. Sign-in links and
    ended sessions are kept ``KEEP`` (for support questions, and links are the rate-limit
    ledger); passkey challenges go as soon as they are used or expired (nothing to look back at)."""
    cutoff = now - KEEP
    tokens = session.execute(
        delete(AccountToken).where(
            or_(
                AccountToken.created_at < cutoff,
                and_(
                    AccountToken.kind.in_(CHALLENGE_KINDS),
                    or_(AccountToken.used_at.is_not(None), AccountToken.expires_at <= now),
                ),
            )
        )
    )
    sessions = session.execute(
        delete(AccountSession).where(
            or_(
                AccountSession.revoked_at < cutoff,
                AccountSession.last_seen_at < cutoff - IDLE,
                AccountSession.created_at < cutoff - ABSOLUTE,
            )
        )
    )
    return int(getattr(tokens, "rowcount", 0)) + int(getattr(sessions, "rowcount", 0))
