"""The companies this replica owns: leases taken and renewed, a fair share kept, lapsed ones taken over."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

import structlog

from syncd.context import Context
from syncd.scheduler.jobs import Jobs
from syncd.store import leases, owners, replicas

log = structlog.get_logger(__name__)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Ownership:
    """This replica's company leases, taken or renewed by every company job and by a beat of their
    own; ``wake`` is the schedule's, for the pulls a takeover or another replica asks for."""

    def __init__(
        self,
        ctx: Context,
        *,
        owner: str,
        realms: tuple[str, ...],
        lease_seconds: float,
        jobs: Jobs,
        wake: Callable[[str, str | None], None],
    ) -> None:
        self.ctx = ctx
        self.owner = owner
        self.realms = realms
        self.lease_seconds = lease_seconds
        self._jobs = jobs
        self._wake = wake
        self._elsewhere: set[str] = set()
        # The companies held, with the monotonic time their lease was last renewed.
        self.renewed: dict[str, float] = {}
        # The most companies this replica takes (None until the first lease beat counted replicas).
        self._share: int | None = None
        self._counting = threading.Lock()

    def owns(self, realm: str) -> bool:
        """Take or renew the company's lease. A lease renewed recently is trusted without a write
        (the worker ticks every few seconds per company; the lease lasts a minute or more)."""
        renewed = self.renewed.get(realm)
        if renewed is not None and time.monotonic() - renewed < self.lease_seconds / 3:
            return True
        if renewed is None and len(self.renewed) >= self._fair_share():
            return self._decline(realm)
        taken = leases.Taken(False)
        # Two of our own jobs may race to create the lease row; the loser sees our own lease
        # on a second try, whereas another replica's live lease refuses us both times.
        for _ in range(2):
            taken = leases.take(
                self.ctx.db, f"company:{realm}", self.owner, now=self.ctx.clock(), seconds=self.lease_seconds
            )
            if taken.owned:
                self.renewed[realm] = time.monotonic()
                break
        owned = taken.owned
        if not owned:
            return self._decline(realm)
        if realm in self._elsewhere or taken.lapsed_from is not None:
            self._elsewhere.discard(realm)
            self._take_over(realm, taken.lapsed_from)
        return True

    def held(self) -> set[str]:
        """The companies held now (other jobs renew leases meanwhile)."""
        return set(self.renewed)

    def ask_pull(self, realm: str) -> None:
        """A pull woken here of a company owned elsewhere (or not yet known): left as a request
        its owner runs on its next lease beat."""
        if realm not in self.renewed:
            now = self.ctx.clock()
            leases.request(self.ctx.db, f"pull:{realm}", self.owner, now=now, seconds=self.lease_seconds)

    def _decline(self, realm: str) -> bool:
        """Not ours (held elsewhere, or beyond our fair share): skip its jobs; said once per
        change of hands, not every cycle of every job."""
        if realm not in self._elsewhere:
            self._elsewhere.add(realm)
            log.info("company_owned_elsewhere", realm=realm)
        self.renewed.pop(realm, None)
        return False

    def _fair_share(self) -> int:
        if self._share is None:
            with self._counting:
                if self._share is None:
                    self._count_replicas(alive=False)
        assert self._share is not None
        return self._share

    def count(self) -> None:
        """Say this replica's schedule runs and count the live replicas (before any job takes a
        company, and on every beat)."""
        with self._counting:
            self._count_replicas()

    def _count_replicas(self, *, alive: bool = True) -> None:
        """Say this replica is ``alive`` (its schedule runs: not a web tier only) and count the
        live ones: its fair share of the companies."""
        now = self.ctx.clock()
        if alive:
            # Renewed every beat, yet lapsing sooner than the company leases (renewed every third
            # of theirs): a dead replica has stopped counting by the time its companies are free.
            replicas.beat(self.ctx.db, self.owner, now=now, seconds=self.lease_seconds * 2 / 3)
        self._share = replicas.fair_share(len(self.realms), replicas.live(self.ctx.db, now=now))

    def beat(self) -> None:
        """Renew this replica's companies and take over lapsed ones on a beat of its own, so a
        long pull or drain never lets a lease lapse under a live owner, nor delays a takeover;
        then run the pulls other replicas asked for (QBO webhooks reach any replica)."""
        self.count()
        for realm in self.realms:
            if self._jobs.stopping:
                return
            self.owns(realm)
        self._give_back()
        owned = tuple(self.renewed)  # other jobs renew leases meanwhile
        for what in leases.take_requests(self.ctx.db, [f"pull:{r}" for r in owned], now=self.ctx.clock()):
            job, realm = what.split(":", 1)
            self._wake(job, realm)

    def _give_back(self) -> None:
        """Companies held beyond the fair share (another replica started) go back, the last of
        the configuration first, each between two of its pulls; their jobs here stop at once."""
        share = self._fair_share()
        mine = [realm for realm in self.realms if realm in self.renewed]
        for realm in reversed(mine[share:]):
            pull = self._jobs.states.get(f"pull:{realm}")
            with self._jobs.lock:
                if pull is not None and pull.running:
                    continue  # mid-cycle: given back on a later beat
                self.renewed.pop(realm, None)
                self._elsewhere.add(realm)
            leases.release(self.ctx.db, f"company:{realm}", self.owner)
            log.info("company_given_back", realm=realm, share=share)

    def _take_over(self, realm: str, lapsed_from: str | None) -> None:
        freed = owners.release_claims(self.ctx.db, lapsed_from, realm) if lapsed_from else 0
        log.info("company_taken_over", realm=realm, lapsed_from=lapsed_from, effects_freed=freed)
        # Catch up at once rather than a pull interval later: the last owner may have died
        # before pulling what QBO announced (its webhooks may have reached any replica).
        self._wake("pull", realm)

    def release_all(self) -> None:
        """Give back every company lease and leave the live replicas (at shutdown)."""
        self.renewed.clear()
        for realm in self.realms:
            try:
                leases.release(self.ctx.db, f"company:{realm}", self.owner)
            except Exception:
                log.exception("lease_release_failed", realm=realm)
        try:
            replicas.leave(self.ctx.db, self.owner)
        except Exception:
            log.exception("lease_release_failed", realm=None)
