"""Live replicas and their fair share of the companies, through the lease table.

Each running scheduler holds a lease ``replica:<owner>`` that its lease beat renews, so the
replicas live now are the rows that have not lapsed; a killed replica drops out once its row lapses,
which the scheduler makes no later than its company leases. A replica takes an unowned
company only while it holds fewer than ``fair_share`` of them, and gives back what it holds beyond
that, so two or three replicas on one database split the companies between them instead of the
first to start holding them all.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import func, select

from syncd.store import leases
from syncd.store.engine import Database
from syncd.store.models import Lease

REPLICA = "replica:"
COMPANY = "company:"


def fair_share(companies: int, replicas: int) -> int:
    """The most companies one replica takes: ceil(companies / live replicas)."""
    return math.ceil(companies / max(1, replicas))


def beat(db: Database, owner: str, *, now: datetime, seconds: float) -> None:
    """Say that ``owner`` is alive for ``seconds`` more."""
    leases.take(db, REPLICA + owner, owner, now=now, seconds=seconds)


def live(db: Database, *, now: datetime) -> int:
    """How many replicas are alive now (at least one: the caller)."""
    with db.transaction() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Lease)
            .where(Lease.name.like(REPLICA + "%"), Lease.expires_at >= now)
        )
    return max(1, int(count or 0))


def leave(db: Database, owner: str) -> None:
    """``owner`` stops (gracefully): it no longer counts as live."""
    leases.release(db, REPLICA + owner, owner)
