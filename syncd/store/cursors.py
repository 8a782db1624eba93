"""Named per-company cursors, advanced in the same transaction as the rows they produced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from syncd.store.models import Cursor


def get(session: Session, company_id: str, name: str) -> str | None:
    row = session.get(Cursor, (company_id, name))
    return row.value if row else None


def put(session: Session, company_id: str, name: str, value: str, *, now: datetime) -> None:
    row = session.get(Cursor, (company_id, name))
    if row is None:
        session.add(Cursor(company_id=company_id, name=name, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
