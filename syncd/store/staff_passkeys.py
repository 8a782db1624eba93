"""Staff passkeys and their ceremonies' challenges, in the caller's transaction.

A challenge is stored as the SHA-256 of its base64url text with its purpose and, for a
registration, the person it was issued to; ``use_challenge`` deletes it in the statement that
finds it, so one challenge answers one ceremony at most, within ``CHALLENGE_LIFETIME``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from syncd.store.models import StaffPasskey, StaffPasskeyChallenge

CHALLENGE_LIFETIME = timedelta(minutes=5)
REGISTER = "register"
SIGN_IN = "sign-in"


def _digest(challenge: str) -> str:
    return hashlib.sha256(challenge.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Used:
    """A challenge that was live and is now used up, with whom it was issued to."""

    staff_id: int | None


def remember_challenge(
    session: Session, challenge: str, purpose: str, *, staff_id: int | None, now: datetime
) -> None:
    session.add(
        StaffPasskeyChallenge(
            digest=_digest(challenge), purpose=purpose, staff_id=staff_id, expires_at=now + CHALLENGE_LIFETIME
        )
    )


def use_challenge(session: Session, challenge: str, purpose: str, *, now: datetime) -> Used | None:
    """The live challenge of ``purpose``, deleted now; None when unknown, used or expired."""
    row = session.get(StaffPasskeyChallenge, _digest(challenge))
    if row is None or row.purpose != purpose:
        return None
    gone = session.execute(delete(StaffPasskeyChallenge).where(StaffPasskeyChallenge.digest == row.digest))
    if int(getattr(gone, "rowcount", 0)) != 1 or row.expires_at <= now:
        return None  # another request used it first, or it is too old
    return Used(row.staff_id)


def keys_of(session: Session, staff_id: int) -> list[StaffPasskey]:
    """The person's passkeys, oldest first."""
    return list(
        session.scalars(
            select(StaffPasskey)
            .where(StaffPasskey.staff_id == staff_id)
            .order_by(StaffPasskey.created_at, StaffPasskey.credential_id)
        )
    )


def add(
    session: Session, staff_id: int, credential_id: str, public_key: bytes, sign_count: int, *, now: datetime
) -> None:
    count = len(keys_of(session, staff_id))
    session.add(
        StaffPasskey(
            credential_id=credential_id,
            staff_id=staff_id,
            name=f"Passkey {count + 1}",
            public_key=public_key,
            sign_count=sign_count,
            created_at=now,
        )
    )


def remove(session: Session, staff_id: int, credential_id: str) -> bool:
    """Forget one of the person's passkeys; False when it is not theirs."""
    gone = session.execute(
        delete(StaffPasskey).where(
            StaffPasskey.staff_id == staff_id, StaffPasskey.credential_id == credential_id
        )
    )
    return int(getattr(gone, "rowcount", 0)) == 1


def remove_all(session: Session, staff_id: int) -> int:
    """Forget every passkey of the person (``syncd staff reset`` and ``remove``): how many went."""
    gone = session.execute(delete(StaffPasskey).where(StaffPasskey.staff_id == staff_id))
    return int(getattr(gone, "rowcount", 0))


def purge(session: Session, *, now: datetime) -> int:
    """Drop challenges that expired (never answered): how many went."""
    gone = session.execute(delete(StaffPasskeyChallenge).where(StaffPasskeyChallenge.expires_at <= now))
    return int(getattr(gone, "rowcount", 0))
