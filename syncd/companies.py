"""Company rows: one per configured QBO realm, with its run status, and pausing and resuming it.

A company is paused when a vendor refuses a credential (``errors.AuthError``). The pause records
which credential, what the vendor said, and a digest of the credential as it was; staff are told
the fix for that credential. It resumes by itself once the credential changed (a new QBO
connection, another key in the configuration) or was proven to work at start, and by
``syncd resume`` for the rest. On resume, the effects that waited are due at once.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from syncd.catalog.payloads_email import StaffAlert
from syncd.context import Context
from syncd.errors import AuthError, Credential
from syncd.store import effects
from syncd.store.effects import EffectStatus
from syncd.store.models import Company, Effect, Secret
from syncd.store.tokens import TOKENS

log = structlog.get_logger(__name__)


class CompanyStatus(enum.Enum):
    ACTIVE = "active"
    RECONNECT = "reconnect_needed"
    PAUSED = "paused"


# What a person does about each refused credential; the staff email and `syncd status` say it.
FIXES: dict[Credential | None, str] = {
    Credential.STRIPE_KEY: "put a working key into `stripe.api_key` and restart syncd",
    Credential.QBO_CONNECTION: "run `syncd connect quickbooks` to reconnect it",
    Credential.QBO_APP: "fix `quickbooks.client_id` and `quickbooks.client_secret` and restart syncd",
    Credential.SMTP: "fix `smtp.username` and `smtp.password` and restart syncd",
    None: "fix the cause, then run `syncd resume --company {realm}`",
}
TITLES: dict[Credential | None, str] = {
    Credential.STRIPE_KEY: "Stripe refused syncd's API key",
    Credential.QBO_CONNECTION: "QuickBooks needs to be reconnected",
    Credential.QBO_APP: "QuickBooks refused syncd's app credentials",
    Credential.SMTP: "The mail server refused syncd's login",
    None: "syncd paused this company",
}


def fix_for(credential: Credential | None, realm_id: str) -> str:
    return FIXES[credential].format(realm=realm_id)


def ensure_companies(ctx: Context) -> None:
    """A row for every configured company; existing rows keep their status and facts."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        for company in ctx.settings.companies:
            if session.get(Company, company.realm_id) is None:
                session.add(
                    Company(
                        realm_id=company.realm_id,
                        name=company.branding.name or "",
                        status=CompanyStatus.ACTIVE.value,
                        created_at=now,
                    )
                )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def fingerprint(ctx: Context, realm_id: str, credential: Credential | None) -> str | None:
    """The credential as syncd holds it now (a digest, never the secret); None: no such thing."""
    settings = ctx.settings
    if credential is Credential.STRIPE_KEY:
        return _digest(settings.stripe.api_key)
    if credential is Credential.QBO_APP:
        return _digest(settings.qbo.client_id, settings.qbo.client_secret)
    if credential is Credential.SMTP:
        return _digest(settings.smtp.host, settings.smtp.username or "", settings.smtp.password or "")
    if credential is Credential.QBO_CONNECTION:
        with ctx.db.transaction() as session:
            version = session.scalar(
                select(Secret.version).where(Secret.company_id == realm_id, Secret.name == TOKENS)
            )
        return f"tokens:{version}"
    return None


def pause(ctx: Context, realm_id: str, exc: AuthError) -> None:
    """Pause the company for the credential ``exc`` names and tell staff its fix (once a day)."""
    credential = exc.credential
    status = CompanyStatus.RECONNECT if credential is Credential.QBO_CONNECTION else CompanyStatus.PAUSED
    digest = fingerprint(ctx, realm_id, credential)
    now = ctx.clock()
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        if row is None:
            return
        entering = row.status != status.value or row.pause_credential != _value(credential)
        row.status = status.value
        row.status_reason = str(exc)
        row.pause_credential = _value(credential)
        row.pause_fingerprint = digest
        if entering:
            row.paused_at = now
            _alert(session, realm_id, credential, str(exc), now)
    if entering:
        log.warning(
            "company_paused",
            realm=realm_id,
            credential=_value(credential),
            error=str(exc),
            fix=fix_for(credential, realm_id),
        )


def _value(credential: Credential | None) -> str | None:
    return credential.value if credential is not None else None


def _alert(
    session: Session, realm_id: str, credential: Credential | None, reason: str, now: datetime
) -> None:
    """One staff email per company, credential and day, so a flapping credential does not flood."""
    alert = StaffAlert(
        title=TITLES[credential],
        body=f"{reason}. Nothing is synced for company {realm_id} until this is fixed: "
        f"{fix_for(credential, realm_id)}. "
        + ("syncd resumes it by itself once the credential works again; " if credential else "")
        + "payments that arrived meanwhile are booked when it resumes.",
        ident=f"paused:{realm_id}:{_value(credential) or 'unknown'}:{now.date().isoformat()}",
    )
    effects.enqueue(session, alert, company_id=realm_id, now=now)


def set_status(ctx: Context, realm_id: str, status: CompanyStatus, reason: str | None = None) -> None:
    """Record the company's state; entering one that needs a person is a pause with no known
    credential (see ``pause``), ACTIVE is a resume."""
    if status is CompanyStatus.ACTIVE:
        resume(ctx, realm_id)
        return
    credential = Credential.QBO_CONNECTION if status is CompanyStatus.RECONNECT else None
    pause(ctx, realm_id, AuthError(reason or TITLES[credential], credential=credential))


def resume(ctx: Context, realm_id: str) -> bool:
    """Make the company active again and what waited for it due now; False if it was not paused."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        if row is None or row.status == CompanyStatus.ACTIVE.value:
            return False
        row.status = CompanyStatus.ACTIVE.value
        row.status_reason = None
        row.pause_credential = None
        row.pause_fingerprint = None
        row.paused_at = None
        # Effects deferred by the refusal (and payments that arrived meanwhile) go out now.
        session.execute(
            update(Effect)
            .where(
                Effect.company_id == realm_id,
                Effect.status == EffectStatus.PENDING.value,
                Effect.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        )
    return True


def runnable(ctx: Context, realm_id: str) -> bool:
    """True when the company's jobs may run: it is active, or the credential that paused it has
    changed since (which resumes it). A pause with no known credential waits for ``syncd resume``."""
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        if row is None or row.status == CompanyStatus.ACTIVE.value:
            return True
        credential = Credential(row.pause_credential) if row.pause_credential else None
        recorded = row.pause_fingerprint
        legacy = row.paused_at is None
    if legacy:
        # Paused before causes were recorded: try again; a new refusal records its cause.
        if resume(ctx, realm_id):
            log.info("company_resumed", realm=realm_id, why="paused without a recorded cause")
        return True
    if credential is None:
        return False
    current = fingerprint(ctx, realm_id, credential)
    if current == recorded:
        return False
    if resume(ctx, realm_id):
        log.info("company_resumed", realm=realm_id, why=f"{credential.value} changed")
    return True


def resume_proven(ctx: Context, credential: Credential) -> list[str]:
    """Resume every company paused for ``credential`` after it was shown to work (at start)."""
    with ctx.db.transaction() as session:
        realms = list(
            session.scalars(select(Company.realm_id).where(Company.pause_credential == credential.value))
        )
    resumed = [realm for realm in realms if resume(ctx, realm)]
    for realm in resumed:
        log.info("company_resumed", realm=realm, why=f"{credential.value} works")
    return resumed


def is_active(ctx: Context, realm_id: str) -> bool:
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        return row is not None and row.status == CompanyStatus.ACTIVE.value
