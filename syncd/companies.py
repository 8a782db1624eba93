"""Company rows: one per configured QBO realm, with its run status (active, paused, reconnect)."""

from __future__ import annotations

import enum

from syncd.context import Context
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
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        if row is not None:
            row.status = status.value
            row.status_reason = reason


def is_active(ctx: Context, realm_id: str) -> bool:
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        return row is not None and row.status == CompanyStatus.ACTIVE.value
