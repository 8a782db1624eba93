"""Owners of leases are ``host:pid:…``; after a crash, a restart on the same host frees what its
dead predecessors held at once instead of waiting for their leases to lapse."""

from __future__ import annotations

import os
import socket

from sqlalchemy import delete, select, update

from syncd.store.effects import EffectStatus
from syncd.store.engine import Database
from syncd.store.models import Effect, Lease


def local_owner(suffix: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{suffix}"


def _dead_here(owner: str, host: str) -> bool:
    parts = owner.split(":")
    if len(parts) < 2 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def reclaim_dead(db: Database) -> int:
    """Drop leases and effect claims of processes on this host that no longer exist.

    Only owners naming this host are considered, and a process that exists (or whose pid was
    reused) keeps its lease until it lapses: never a false steal from a live owner here.
    """
    host = socket.gethostname()
    freed = 0
    with db.transaction() as session:
        owners = set(session.scalars(select(Lease.owner)))
        owners |= set(
            session.scalars(
                select(Effect.lease_owner).where(
                    Effect.lease_owner.is_not(None), Effect.status == EffectStatus.PENDING.value
                )
            )
        )
        dead = [o for o in owners if o and _dead_here(o, host)]
        for owner in dead:
            gone = session.execute(delete(Lease).where(Lease.owner == owner))
            released = session.execute(
                update(Effect)
                .where(Effect.lease_owner == owner, Effect.status == EffectStatus.PENDING.value)
                .values(lease_owner=None, lease_expires_at=None)
            )
            freed += int(getattr(gone, "rowcount", 0) or 0) + int(getattr(released, "rowcount", 0) or 0)
    return freed


def release_claims(db: Database, owner: str, company_id: str) -> int:
    """Free the effect claims ``owner`` holds in one company, whose lease lapsed from it: a
    takeover resumes that company's effects now rather than when each claim runs out. Should the
    owner still be alive, it cannot complete them (``LeaseLost``) and their keys make replays safe."""
    with db.transaction() as session:
        released = session.execute(
            update(Effect)
            .where(
                Effect.lease_owner == owner,
                Effect.company_id == company_id,
                Effect.status == EffectStatus.PENDING.value,
            )
            .values(lease_owner=None, lease_expires_at=None)
        )
        return int(getattr(released, "rowcount", 0) or 0)
