"""Staff sign-in sessions and the sign-in rate limit.

A session is a random cookie whose SHA-256 is the row's key, so the table holds nothing a browser
could present. A session ends when it is revoked, idle longer than ``IDLE``, older than
``ABSOLUTE``, or its person is disabled. Failed sign-ins are counted per email and per address
over ``WINDOW``; the caller refuses once either reaches its limit. Functions run in the caller's
transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from syncd.store import staff_passkeys
from syncd.store.models import StaffSession, StaffSignInAttempt, StaffUser

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
WINDOW = timedelta(minutes=15)
PER_EMAIL = 5
PER_ADDRESS = 20  # an office behind one address holds several people
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


def digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Opened:
    """A session as the guard sees it: the person's row and whether TOTP is still owed."""

    user: StaffUser
    digest: str
    totp_pending: bool


def open_session(session: Session, staff_id: int, *, totp_pending: bool, now: datetime) -> str:
    """A new session for the person; returns the cookie value (shown once, never stored)."""
    cookie = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            digest=digest(cookie),
            staff_id=staff_id,
            totp_pending=totp_pending,
            created_at=now,
            last_seen_at=now,
        )
    )
    return cookie


def resolve(session: Session, cookie: str, *, now: datetime) -> Opened | None:
    """The live session behind ``cookie`` (one query), refreshing its idle clock; None if dead."""
    found = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.digest == digest(cookie))
    ).first()
    if found is None:
        return None
    row, user = found
    dead = (
        row.revoked_at is not None
        or user.disabled_at is not None
        or now - row.last_seen_at > IDLE
        or now - row.created_at > ABSOLUTE
    )
    if dead:
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return Opened(user, row.digest, row.totp_pending)


def second_factor_done(session: Session, cookie: str, *, now: datetime) -> str:
    """Replace a TOTP-pending session by a full one (a new cookie: the old one dies)."""
    row = session.get(StaffSession, digest(cookie))
    assert row is not None
    row.revoked_at = now
    return open_session(session, row.staff_id, totp_pending=False, now=now)


def revoke(session: Session, cookie: str, *, now: datetime) -> None:
    row = session.get(StaffSession, digest(cookie))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def failed(session: Session, email: str, ip: str, *, now: datetime) -> None:
    """Count one failed sign-in (wrong password or code, unknown email)."""
    session.add(StaffSignInAttempt(email=email[:320], ip=ip[:64], at=now))


def limited(session: Session, email: str, ip: str, *, now: datetime) -> bool:
    """True when the email or the address failed too often within ``WINDOW`` (one query)."""
    since = now - WINDOW
    by_email, by_ip = session.execute(
        select(
            func.count().filter(StaffSignInAttempt.email == email),
            func.count().filter(StaffSignInAttempt.ip == ip),
        ).where(
            StaffSignInAttempt.at > since,
            or_(StaffSignInAttempt.email == email, StaffSignInAttempt.ip == ip),
        )
    ).one()
    return int(by_email) >= PER_EMAIL or int(by_ip) >= PER_ADDRESS


def purge(session: Session, *, now: datetime) -> int:
    """Drop failed attempts older than the window (they no longer count), sessions that ended
    a day ago or more (revoked, idle or too old) and unanswered passkey challenges: how many rows
    went."""
    attempts = session.execute(delete(StaffSignInAttempt).where(StaffSignInAttempt.at <= now - WINDOW))
    day = timedelta(days=1)
    ended = session.execute(
        delete(StaffSession).where(
            or_(
                StaffSession.revoked_at <= now - day,
                StaffSession.last_seen_at <= now - IDLE - day,
                StaffSession.created_at <= now - ABSOLUTE - day,
            )
        )
    )
    challenges = staff_passkeys.purge(session, now=now)
    return int(getattr(attempts, "rowcount", 0)) + int(getattr(ended, "rowcount", 0)) + challenges
