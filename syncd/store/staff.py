"""The staff roster: adding, removing and resetting people, their passwords and second factor.

Every function works inside the caller's transaction. Passwords are argon2 hashes (argon2-cffi);
TOTP secrets are sealed with the instance's ``SecretBox``, and a TOTP code is accepted once: the
step it was made for must be later than the last one accepted. Removing, disabling or resetting
a person revokes every session they hold and forgets their passkeys in the same transaction, so
no browser and no authenticator outlives it.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from syncd.domain.staff import StaffPrincipal, StaffRole
from syncd.errors import PermanentError
from syncd.secrets import SecretBox
from syncd.store import staff_passkeys
from syncd.store.models import Company, StaffMembership, StaffSession, StaffUser

HASHER = PasswordHasher()
# Checked against when the email is unknown, so an unknown email costs what a known one does.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 12


@dataclass(frozen=True, slots=True)
class Member:
    """One person on the roster, for ``syncd staff list``."""

    email: str
    name: str
    disabled: bool
    totp: bool
    roles: Mapping[str, StaffRole]


def normal_email(email: str) -> str:
    return email.strip().lower()


def one_time_password() -> str:
    """A password to print once; the console asks for a new one at first sign-in."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification, even without a hash."""
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def find(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == normal_email(email)))


def revoke_sessions(session: Session, staff_id: int, *, now: datetime) -> int:
    """End every live session of the person; the count ended."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0))


def add(
    session: Session, email: str, *, company_id: str, role: StaffRole, name: str | None, now: datetime
) -> tuple[StaffUser, str | None]:
    """Give ``email`` ``role`` in the company, creating (or re-enabling) the person. Returns the
    user and, when they need one, a one-time password to hand over (None for a known person)."""
    if session.get(Company, company_id) is None:
        raise PermanentError(f"company {company_id} is not known yet: run `syncd migrate` and a first pull")
    user = find(session, email)
    password = None
    if user is None:
        password = one_time_password()
        user = StaffUser(
            email=normal_email(email),
            name=name or "",
            password_hash=hash_password(password),
            password_temporary=True,
            totp_confirmed=False,
            created_at=now,
        )
        session.add(user)
        session.flush()
    elif user.disabled_at is not None:
        password = one_time_password()
        user.disabled_at = None
        user.password_hash = hash_password(password)
        user.password_temporary = True
        user.totp_sealed = None
        user.totp_confirmed = False
    if name:
        user.name = name
    membership = session.get(StaffMembership, (user.id, company_id))
    if membership is None:
        session.add(StaffMembership(staff_id=user.id, company_id=company_id, role=role.value, created_at=now))
    else:
        membership.role = role.value
    session.flush()
    return user, password


def remove(session: Session, email: str, *, now: datetime) -> StaffUser:
    """Disable the person, drop their roles and end their sessions (their audit trail stays)."""
    user = _known(session, email)
    user.disabled_at = now
    session.execute(delete(StaffMembership).where(StaffMembership.staff_id == user.id))
    revoke_sessions(session, user.id, now=now)
    staff_passkeys.remove_all(session, user.id)
    return user


def reset(session: Session, email: str, *, now: datetime) -> str:
    """A new one-time password, the second factor forgotten, every session ended."""
    user = _known(session, email)
    if user.disabled_at is not None:
        raise PermanentError(f"{user.email} was removed: add them again with `syncd staff add`")
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.password_temporary = True
    user.totp_sealed = None
    user.totp_confirmed = False
    user.totp_last_step = None
    revoke_sessions(session, user.id, now=now)
    staff_passkeys.remove_all(session, user.id)
    return password


def set_password(user: StaffUser, password: str) -> None:
    """The person's own password (the console checks it was asked for and is long enough)."""
    if len(password) < MIN_PASSWORD:
        raise PermanentError(f"a password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    user.password_temporary = False


def totp_secret(user: StaffUser, box: SecretBox) -> str | None:
    return box.decrypt(user.totp_sealed).decode() if user.totp_sealed else None


def accept_totp(user: StaffUser, secret: str, code: str, *, at: float | None = None) -> bool:
    """True when ``code`` is the secret's code for the step of ``at`` (now by default) or one step
    either side, and that step is later than the last code accepted; it then becomes the last.
    So a code that worked once is refused when presented again (a replayed or shoulder-surfed one)."""
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    current = int(now) // totp.interval
    for step in (current - 1, current, current + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if len(code) == totp.digits and hmac.compare_digest(totp.at(step * totp.interval), code):
            user.totp_last_step = step
            return True
    return False


def seal_totp(user: StaffUser, box: SecretBox, secret: str) -> None:
    """A new, unconfirmed second factor; it counts once ``confirmed`` with a right code."""
    user.totp_sealed = box.encrypt(secret.encode())
    user.totp_confirmed = False


def listed(session: Session) -> list[Member]:
    """Everyone on the roster with their role per company, by email."""
    roles: dict[int, dict[str, StaffRole]] = {}
    for m in session.scalars(select(StaffMembership)):
        roles.setdefault(m.staff_id, {})[m.company_id] = StaffRole(m.role)
    return [
        Member(u.email, u.name, u.disabled_at is not None, u.totp_confirmed, roles.get(u.id, {}))
        for u in session.scalars(select(StaffUser).order_by(StaffUser.email))
    ]


def principal(session: Session, user: StaffUser) -> tuple[StaffPrincipal, dict[str, str]]:
    """The signed-in person with their roles, and the names of their companies (one query)."""
    rows = session.execute(
        select(StaffMembership.company_id, StaffMembership.role, Company.name)
        .join(Company, Company.realm_id == StaffMembership.company_id)
        .where(StaffMembership.staff_id == user.id)
    ).all()
    roles = {c: StaffRole(r) for c, r, _name in rows}
    return StaffPrincipal(user.id, user.email, user.name, roles), {c: name or c for c, _r, name in rows}


def _known(session: Session, email: str) -> StaffUser:
    user = find(session, email)
    if user is None:
        raise PermanentError(f"no staff member {normal_email(email)}: see `syncd staff list`")
    return user
