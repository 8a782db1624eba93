"""Small-debt write-offs in the store: a customer's latest proposal, the company's list, one row
locked for a decision.

Every function works inside the caller's transaction and commits nothing itself, so a decision and
the effect it queues are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.collections import WriteOffStatus
from syncd.store.models import WriteOff


def latest(session: Session, realm_id: str, customer_id: str) -> WriteOff | None:
    """The customer's newest write-off, whatever its status."""
    return session.scalar(
        select(WriteOff)
        .where(WriteOff.company_id == realm_id, WriteOff.customer_id == customer_id)
        .order_by(WriteOff.id.desc())
        .limit(1)
    )


def listed(
    session: Session, realm_id: str | None, statuses: Sequence[WriteOffStatus] | None = None
) -> list[WriteOff]:
    """Write-offs of one company (None: all), oldest first, optionally only in ``statuses``."""
    query = select(WriteOff)
    if realm_id is not None:
        query = query.where(WriteOff.company_id == realm_id)
    if statuses is not None:
        query = query.where(WriteOff.status.in_([s.value for s in statuses]))
    return list(session.scalars(query.order_by(WriteOff.id)))


def locked(session: Session, write_off_id: int) -> WriteOff | None:
    """The row, locked until the transaction ends (PostgreSQL; SQLite serialises writers)."""
    return session.scalar(select(WriteOff).where(WriteOff.id == write_off_id).with_for_update())
