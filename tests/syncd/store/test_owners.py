"""Reclaiming what dead local processes held, and never what live ones hold."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from syncd.store import effects, leases
from syncd.store.engine import Database
from syncd.store.owners import reclaim_dead

T0 = datetime.now(UTC)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_dead_local_owners_are_reclaimed_live_and_remote_ones_kept(db: Database) -> None:
    host = socket.gethostname()
    dead = f"{host}:{_dead_pid()}:x"
    alive = f"{host}:{os.getppid()}:x"
    remote = f"elsewhere-{host}:{_dead_pid()}:x"
    for name, owner in (("company:1", dead), ("company:2", alive), ("company:3", remote)):
        assert leases.acquire(db, name, owner, now=T0, seconds=600)
    with db.transaction() as s:
        effects.insert(s, key="e1", kind="k", company_id="1", payload={}, now=T0)
    effects.claim(db, owner=dead, now=T0, lease_seconds=600)
    assert reclaim_dead(db) == 2
    assert leases.holder(db, "company:1", now=T0) is None
    assert leases.holder(db, "company:2", now=T0) == alive
    assert leases.holder(db, "company:3", now=T0) == remote
    assert [c.key for c in effects.claim(db, owner="me", now=T0 + timedelta(seconds=1))] == ["e1"]
