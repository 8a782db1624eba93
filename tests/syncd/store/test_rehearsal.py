"""Rehearsal: transactions see each other's writes, a failed one rolls back alone, close keeps nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from syncd.store import effects
from syncd.store.engine import Database
from syncd.store.models import Company, Effect
from syncd.store.rehearsal import Rehearsal

T0 = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


def _count(db: Database) -> tuple[int, int]:
    with db.transaction() as s:
        return (
            int(s.scalar(select(func.count()).select_from(Company)) or 0),
            int(s.scalar(select(func.count()).select_from(Effect)) or 0),
        )


def test_writes_are_seen_inside_and_rolled_back_at_close(db: Database) -> None:
    with db.transaction() as s:
        s.add(Company(realm_id="1", name="Kept", created_at=T0))
    with Rehearsal(db) as rehearsal:
        with rehearsal.transaction() as s:
            s.add(Company(realm_id="2", name="Rehearsed", created_at=T0))
            assert effects.insert(s, key="email:x", kind="email.notice", company_id="2", payload={}, now=T0)
        with pytest.raises(RuntimeError), rehearsal.transaction() as s:
            s.add(Company(realm_id="3", name="Failed", created_at=T0))
            s.flush()
            raise RuntimeError("a stage failed")
        with rehearsal.transaction() as s:
            assert not effects.insert(
                s, key="email:x", kind="email.notice", company_id="2", payload={}, now=T0
            )
            names = set(s.scalars(select(Company.name)))
        assert names == {"Kept", "Rehearsed"}
        assert _count(rehearsal) == (2, 1)
    assert _count(db) == (1, 0)
    with db.transaction() as s:
        assert s.get(Company, "1") is not None
