"""Company rows: one per configured QBO realm, with its run status (active, paused, reconnect)."""

from __future__ import annotations

import enum

from syncd.context import Context
from syncd.store import effects
from syncd.store.models import Company


class CompanyStatus(enum.Enum):
    ACTIVE = "active"
    RECONNECT = "reconnect_needed"
    PAUSED = "paused"


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


def set_status(ctx: Context, realm_id: str, status: CompanyStatus, reason: str | None = None) -> None:
    """Record the company's state; entering one that needs a person queues a staff alert (one per
    company, state and day, so a flapping connection does not flood the inbox)."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        if row is None:
            return
        entering = row.status != status.value and status is not CompanyStatus.ACTIVE
        row.status = status.value
        row.status_reason = reason
        if entering:
            title = {
                CompanyStatus.RECONNECT: "QuickBooks needs to be reconnected",
                CompanyStatus.PAUSED: "syncd paused this company",
            }[status]
            effects.enqueue(
                session,
                key=f"email:staff:{status.value}:{realm_id}:{now.date().isoformat()}",
                kind="email.staff",
                company_id=realm_id,
                payload={
                    "title": title,
                    "body": f"{reason or title}. Nothing is synced for company {realm_id} until this is "
                    "fixed; run `syncd connect quickbooks` to reconnect it.",
                },
                now=now,
            )


def is_active(ctx: Context, realm_id: str) -> bool:
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        return row is not None and row.status == CompanyStatus.ACTIVE.value
