"""The console's audit trail: one row per action a staff member took (who, what, when, company,
target), written in the same transaction as the change it records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.staff import StaffPrincipal
from syncd.store.models import StaffAction


def record(
    session: Session,
    who: StaffPrincipal | None,
    action: str,
    *,
    now: datetime,
    company_id: str | None = None,
    target: str = "",
    email: str | None = None,
) -> None:
    """Note that ``who`` (or, before sign-in, ``email``) did ``action`` to ``target``."""
    session.add(
        StaffAction(
            staff_id=who.staff_id if who is not None else None,
            staff_email=who.email if who is not None else (email or "")[:320],
            company_id=company_id,
            action=action,
            target=target[:200],
            at=now,
        )
    )


def recent(session: Session, company_ids: Sequence[str], *, limit: int = 200) -> list[StaffAction]:
    """The latest actions in these companies, newest first."""
    query = (
        select(StaffAction)
        .where(StaffAction.company_id.in_(list(company_ids)))
        .order_by(StaffAction.at.desc(), StaffAction.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
