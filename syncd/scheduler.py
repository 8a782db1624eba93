"""The job schedule: per-company pulls and token refreshes, the effect worker, inbox and backfill.

Jobs are built from configuration at start in an in-memory job store (the durable state is
syncd's own tables). Each company is owned by one replica at a time through a lease that every
company job takes or renews first; a replica that does not own a company skips its jobs. A beat of
its own (``leases``) renews them and takes over lapsed ones; a pull woken on a replica that does
not own the company is left as a request its owner takes on that beat. Replicas share the
companies: each takes at most its fair share of them (``syncd.store.replicas``) and gives back
what it holds beyond that.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from syncd import companies, worker
from syncd.companies import CompanyStatus
from syncd.context import Context
from syncd.errors import AuthError
from syncd.stages import account_cleanup, batching, events
from syncd.stages.cycle import run_cycle
from syncd.store import effects, leases, owners, replicas
from syncd.store.models import Company
from syncd.store.turnstile import urgent
from syncd.turns import Turns

log = structlog.get_logger(__name__)

RECONNECT = CompanyStatus.RECONNECT.value
ACTIVE = CompanyStatus.ACTIVE.value
DRAIN_ROUNDS = 20
# The effects a payer or the books wait on (priority 0): they also run in the money lane.
# A batch of money entries (``stages.batching``) is performed there too; the lane gathers the
# company's due fees into its batches with its Payments.
MONEY_KINDS = ("qbo.payment", "qbo.void", "stripe.checkout", "stripe.expire_checkout", "qbo.entry_batch")
STAFF_ONLY = ("email.staff",)
# A pull woken again sooner than this after its last start waits for the rest: the QBO webhooks
# of a burst of payments (syncd's own Payments among them) cost one CDC read per spacing, not one
# each, and leave the company's request budget to the payments themselves.
PULL_SPACING = 5.0
# Company cycles (pull, publish, notify) running at once: a daemon of hundreds of companies
# starts all their first syncs together, and they write to one database. The rest wait their turn
# holding no connection, while the worker and money lanes go on; the company whose last cycle began
# longest ago goes next, so first syncs go before webhook-woken re-pulls (``syncd.turns``).
CYCLES_AT_ONCE = 4
# Companies the money lane serves side by side (each runs its own effects in parallel too). A
# payment is a few requests that mostly wait on QBO and Stripe (about 0.2 s): four at once served
# 20 payments a second spread over 200 companies no faster than they came, so they queued; sixteen
# still did under load (a pass waited about 1 s), with payments queued 2-4 s before being claimed.
MONEY_COMPANIES_AT_ONCE = 32
# Old customer sign-in rows (``syncd.stages.account_cleanup``): hourly keeps the tables about a
# day's size, off the sign-in request's path.
CLEANUP_SECONDS = 3600.0


class EffectRunner(Protocol):
    def __call__(
        self,
        ctx: Context,
        *,
        owner: str,
        realm_id: str | None = None,
        limit: int = 50,
        kinds: Iterable[str] | None = None,
    ) -> int: ...


def _refresh_tokens(ctx: Context, realm_id: str) -> None:
    """Keep the refresh-token chain alive without a metered read: ask for a fresh access token."""
    ctx.qbo(realm_id).keep_alive()


def _clean_sign_ins(ctx: Context) -> None:
    account_cleanup.run(ctx)


@dataclass(frozen=True, slots=True)
class Stages:
    """What the jobs run; the real stages by default, fakes in tests of the schedule itself."""

    cycle: Callable[[Context, str], object]
    run_effects: EffectRunner
    ingest: Callable[[Context], object]
    backfill: Callable[[Context], object]
    release: Callable[[Context, str], object]
    refresh: Callable[[Context, str], object] = _refresh_tokens
    cleanup: Callable[[Context], object] = _clean_sign_ins


def real_stages() -> Stages:
    return Stages(
        cycle=run_cycle,
        run_effects=batching.run_effects_batched,
        ingest=events.ingest,
        backfill=events.backfill,
        release=worker.release,
    )


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class _JobState:
    fn: Callable[[], None]
    running: bool = False
    again: bool = False
    runs: int = 0
    started: float = -math.inf  # monotonic time of the last run's start
    done: threading.Condition = field(default_factory=threading.Condition)


class Scheduler:
    """APScheduler 3 ``BackgroundScheduler`` with syncd's jobs; ``wake`` runs one now."""

    def __init__(
        self,
        ctx: Context,
        *,
        stages: Stages | None = None,
        owner: str | None = None,
        lease_seconds: float | None = None,
        max_workers: int | None = None,
        pull_spacing: float = PULL_SPACING,
    ) -> None:
        self.ctx = ctx
        self.pull_spacing = pull_spacing
        self.stages = stages or real_stages()
        self.owner = owner or default_owner()
        iv = ctx.settings.intervals
        # Renewed every third of it, so a few worker intervals at least.
        self.lease_seconds = lease_seconds or max(iv.lease_seconds, 5 * iv.worker_seconds)
        self.realms = tuple(c.realm_id for c in ctx.settings.companies)
        workers = max_workers or 4 + 2 * len(self.realms)
        self._sched = BackgroundScheduler(
            executors={"default": JobExecutor(max_workers=workers)},
            # ``_run`` lets one instance of a job run at a time; a second instance allowed here is
            # a wake arriving as a run ends (APScheduler still counts it), which would else be lost.
            job_defaults={"max_instances": 2, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._lock = threading.Lock()
        self._jobs: dict[str, _JobState] = {}
        self._elsewhere: set[str] = set()
        self._renewed: dict[str, float] = {}
        # The most companies this replica takes (None until the first lease beat counted replicas).
        self._share: int | None = None
        self._counting = threading.Lock()
        self._stopping = False
        self._cycles = Turns(CYCLES_AT_ONCE)
        # The money lane's companies in hand (value: due again meanwhile), on a pool of their own.
        self._in_lane: dict[str, bool] = {}
        self._lane = ThreadPoolExecutor(max_workers=MONEY_COMPANIES_AT_ONCE, thread_name_prefix="money")

    # -- building -----------------------------------------------------------------------------

    def _add(self, job_id: str, fn: Callable[[], None], seconds: float, *, first: datetime | None) -> None:
        self._jobs[job_id] = _JobState(fn)
        extra: dict[str, Any] = {"next_run_time": first} if first is not None else {}
        self._sched.add_job(
            self._run, "interval", seconds=seconds, id=job_id, name=job_id, args=(job_id, fn), **extra
        )

    def start(self) -> Scheduler:
        iv = self.ctx.settings.intervals
        now = datetime.now(UTC)
        with self._counting:
            self._count_replicas()  # before any job takes a company
        for realm in self.realms:
            cycle = self._company_job(realm, self._gated_cycle)
            self._add(f"pull:{realm}", cycle, iv.pull_seconds, first=now)
            self._add(
                f"refresh:{realm}",
                self._company_job(realm, self.stages.refresh),
                iv.refresh_seconds,
                first=None,
            )
        self._add("leases", self._hold_leases, iv.worker_seconds, first=now)
        self._add("worker", self._worker, iv.worker_seconds, first=now)
        self._add("money", self._money_worker, iv.worker_seconds, first=now)
        self._add("ingest", self._global(self.stages.ingest, "ingest"), iv.inbox_seconds, first=now)
        self._add("backfill", self._global(self.stages.backfill, "backfill"), iv.backfill_seconds, first=now)
        self._add("cleanup", self._global(self.stages.cleanup, "cleanup"), CLEANUP_SECONDS, first=now)
        self._sched.start()
        log.info("scheduler_started", owner=self.owner, companies=len(self.realms))
        return self

    @property
    def running(self) -> bool:
        """The scheduler thread is alive and accepting jobs (the systemd watchdog asks)."""
        return bool(self._sched.running) and not self._stopping

    @property
    def job_ids(self) -> list[str]:
        return sorted(self._jobs)

    # -- running ------------------------------------------------------------------------------

    def _run(self, job_id: str, fn: Callable[[], None]) -> None:
        state = self._jobs[job_id]
        with self._lock:
            if state.running:
                state.again = True
                return
            state.running, state.again = True, False
        try:
            while True:
                self._space(job_id, state)
                state.started = time.monotonic()
                try:
                    fn()
                except Exception:
                    # One failure never stops the schedule: log and wait for the next run.
                    log.exception("job_failed", job=job_id)
                with self._lock:
                    if not state.again or self._stopping:
                        # Stop running under the same lock that read ``again``: a wake in
                        # between would see us running, set ``again`` and be lost.
                        state.running = False
                        break
                    state.again = False
        finally:
            with self._lock:
                state.running = False
            with state.done:
                state.runs += 1
                state.done.notify_all()

    def _spacing(self, job_id: str, state: _JobState) -> float:
        """Seconds a run of ``job_id`` starting now should wait (pulls only, see PULL_SPACING)."""
        if not job_id.startswith("pull:"):
            return 0.0
        return max(0.0, state.started + self.pull_spacing - time.monotonic())

    def _space(self, job_id: str, state: _JobState) -> None:
        # A rerun asked for during a run (``again``) waits out the spacing in the job's own thread.
        wait = self._spacing(job_id, state)
        with state.done:
            state.done.wait_for(lambda: self._stopping, wait)

    def wake(self, job: str, realm: str | None = None) -> None:
        """Run ``job`` (``pull``/``refresh`` with a realm; ``worker``, ``ingest``, ``backfill``) now.
        A wake during a run makes the job run once more right after, so no wake is lost; a pull
        runs at most once per ``pull_spacing`` seconds."""
        if job == "worker" and realm is None and "money" in self._jobs:
            self.wake("money")  # whatever woke the worker may have queued money
        if job == "pull" and realm is not None and realm not in self._renewed:
            # Owned elsewhere (or not yet known): the owner runs it on its next lease beat.
            now = self.ctx.clock()
            leases.request(self.ctx.db, f"pull:{realm}", self.owner, now=now, seconds=self.lease_seconds)
        job_id = f"{job}:{realm}" if realm else job
        state = self._jobs.get(job_id)
        if state is None:
            log.info("wake_ignored", job=job_id, reason="no such job")
            return
        with self._lock:
            if self._stopping:
                return
            if state.running:
                state.again = True
                return
        # A one-off run, not the interval job moved to now: APScheduler counts that job's last run
        # until just after ``_run`` returned and would skip, so lose, a wake landing meanwhile.
        # ``_run`` itself keeps to one run of a job at a time.
        self._sched.add_job(self._run, args=(job_id, state.fn), name=f"{job_id} (woken)")

    def runs(self, job_id: str) -> int:
        return self._jobs[job_id].runs

    def wait_for_run(self, job_id: str, after: int, timeout: float) -> bool:
        """Block until ``job_id`` completed more than ``after`` runs (tests, the bench)."""
        state = self._jobs[job_id]
        with state.done:
            return state.done.wait_for(lambda: state.runs > after, timeout)

    # -- ownership and pausing ----------------------------------------------------------------

    def owns(self, realm: str) -> bool:
        """Take or renew the company's lease. A lease renewed recently is trusted without a write
        (the worker ticks every few seconds per company; the lease lasts a minute or more)."""
        renewed = self._renewed.get(realm)
        if renewed is not None and time.monotonic() - renewed < self.lease_seconds / 3:
            return True
        if renewed is None and len(self._renewed) >= self._fair_share():
            return self._decline(realm)
        taken = leases.Taken(False)
        # Two of our own jobs may race to create the lease row; the loser sees our own lease
        # on a second try, whereas another replica's live lease refuses us both times.
        for _ in range(2):
            taken = leases.take(
                self.ctx.db, f"company:{realm}", self.owner, now=self.ctx.clock(), seconds=self.lease_seconds
            )
            if taken.owned:
                self._renewed[realm] = time.monotonic()
                break
        owned = taken.owned
        if not owned:
            return self._decline(realm)
        if realm in self._elsewhere or taken.lapsed_from is not None:
            self._elsewhere.discard(realm)
            self._take_over(realm, taken.lapsed_from)
        return True

    def _decline(self, realm: str) -> bool:
        """Not ours (held elsewhere, or beyond our fair share): skip its jobs; said once per
        change of hands, not every cycle of every job."""
        if realm not in self._elsewhere:
            self._elsewhere.add(realm)
            log.info("company_owned_elsewhere", realm=realm)
        self._renewed.pop(realm, None)
        return False

    def _fair_share(self) -> int:
        if self._share is None:
            with self._counting:
                if self._share is None:
                    self._count_replicas(alive=False)
        assert self._share is not None
        return self._share

    def _count_replicas(self, *, alive: bool = True) -> None:
        """Say this replica is ``alive`` (its schedule runs: not a web tier only) and count the
        live ones: its fair share of the companies."""
        now = self.ctx.clock()
        if alive:
            # Renewed every beat, yet lapsing sooner than the company leases (renewed every third
            # of theirs): a dead replica has stopped counting by the time its companies are free.
            replicas.beat(self.ctx.db, self.owner, now=now, seconds=self.lease_seconds * 2 / 3)
        self._share = replicas.fair_share(len(self.realms), replicas.live(self.ctx.db, now=now))

    def _give_back(self) -> None:
        """Companies held beyond the fair share (another replica started) go back, the last of
        the configuration first, each between two of its pulls; their jobs here stop at once."""
        share = self._fair_share()
        mine = [realm for realm in self.realms if realm in self._renewed]
        for realm in reversed(mine[share:]):
            pull = self._jobs.get(f"pull:{realm}")
            with self._lock:
                if pull is not None and pull.running:
                    continue  # mid-cycle: given back on a later beat
                self._renewed.pop(realm, None)
                self._elsewhere.add(realm)
            leases.release(self.ctx.db, f"company:{realm}", self.owner)
            log.info("company_given_back", realm=realm, share=share)

    def _take_over(self, realm: str, lapsed_from: str | None) -> None:
        freed = owners.release_claims(self.ctx.db, lapsed_from, realm) if lapsed_from else 0
        log.info("company_taken_over", realm=realm, lapsed_from=lapsed_from, effects_freed=freed)
        # Catch up at once rather than a pull interval later: the last owner may have died
        # before pulling what QBO announced (its webhooks may have reached any replica).
        self.wake("pull", realm)

    def runnable(self, realm: str) -> bool:
        """False while a company waits for a person (see ``syncd.companies``): a refused
        credential that has not changed since, or a pause only ``syncd resume`` lifts."""
        return companies.runnable(self.ctx, realm)

    def _pause(self, realm: str, exc: AuthError) -> None:
        companies.pause(self.ctx, realm, exc)

    # -- the jobs -----------------------------------------------------------------------------

    def _company_job(self, realm: str, fn: Callable[[Context, str], object]) -> Callable[[], None]:
        def job() -> None:
            if self._stopping or not self.owns(realm) or not self.runnable(realm):
                return
            try:
                fn(self.ctx, realm)
            except AuthError as exc:
                self._pause(realm, exc)

        return job

    def _gated_cycle(self, ctx: Context, realm: str) -> None:
        with self._cycles.turn(realm):
            if not self._stopping:
                self.stages.cycle(ctx, realm)

    def _worker(self) -> None:
        def work(realm: str) -> None:
            if self.runnable(realm):
                self._drain(realm, limit=50)
            else:
                # Waiting for a person: only the alerts telling staff so may go out.
                self.stages.run_effects(self.ctx, owner=self.owner, realm_id=realm, kinds=STAFF_ONLY)

        self._each_owned(work, "worker_failed", kinds=None)

    def _hold_leases(self) -> None:
        """Renew this replica's companies and take over lapsed ones on a beat of its own, so a
        long pull or drain never lets a lease lapse under a live owner, nor delays a takeover;
        then run the pulls other replicas asked for (QBO webhooks reach any replica)."""
        with self._counting:
            self._count_replicas()
        for realm in self.realms:
            if self._stopping:
                return
            self.owns(realm)
        self._give_back()
        owned = tuple(self._renewed)  # other jobs renew leases meanwhile
        for what in leases.take_requests(self.ctx.db, [f"pull:{r}" for r in owned], now=self.ctx.clock()):
            job, realm = what.split(":", 1)
            self.wake(job, realm)

    def _money_worker(self) -> None:
        """A lane of its own for money effects: a paid invoice reaches QBO in seconds even while
        the general worker is deep in a first sync's thousands of emails and link write-backs.
        Each company with money due is handed to the lane's pool and this pass returns at once:
        a payment never waits for another company's slower one to finish."""

        def work(realm: str) -> None:
            # An active company (as of the pass that found its money due) needs no second look.
            if realm in active or self.runnable(realm):
                self._drain(realm, limit=10, kinds=MONEY_KINDS, until_short=True)

        def in_lane(realm: str) -> None:
            while True:
                with urgent():  # its claims and records go before first syncs' transactions
                    self._each_owned(work, "money_worker_failed", kinds=None, realms=[realm])
                with self._lock:
                    if not self._in_lane.get(realm) or self._stopping:
                        self._in_lane.pop(realm, None)
                        return
                    self._in_lane[realm] = False  # due again while it ran: once more

        with urgent(), self.ctx.db.transaction() as session:
            due = effects.due_companies(
                session, now=self.ctx.clock(), companies=self.realms, kinds=MONEY_KINDS
            )
            active = set(
                session.scalars(
                    select(Company.realm_id).where(Company.realm_id.in_(due), Company.status == ACTIVE)
                )
            )
        for realm in due:
            with self._lock:
                if self._stopping:
                    return
                if realm in self._in_lane:
                    self._in_lane[realm] = True
                    continue
                self._in_lane[realm] = False
            self._lane.submit(in_lane, realm)

    def _each_owned(
        self,
        work: Callable[[str], None],
        failed: str,
        *,
        kinds: Iterable[str] | None,
        realms: Iterable[str] | None = None,
    ) -> None:
        """``work`` each company this replica owns that has effects (of ``kinds``) due, in turn,
        until stopping (``realms``: those, as they are); an AuthError pauses that company and
        anything else is logged as ``failed``, neither stopping the others."""
        if realms is None:
            with self.ctx.db.transaction() as session:
                realms = effects.due_companies(
                    session, now=self.ctx.clock(), companies=self.realms, kinds=kinds
                )
        for realm in realms:
            if self._stopping:
                return
            try:
                if self.owns(realm):
                    work(realm)
            except AuthError as exc:
                self._pause(realm, exc)
            except Exception:
                log.exception(failed, realm=realm)

    def _drain(
        self, realm: str, *, limit: int, kinds: Iterable[str] | None = None, until_short: bool = False
    ) -> None:
        # Effects often enqueue follow-ups (a settled payment → its QBO write): keep going while
        # there is progress instead of waiting a whole interval per step. ``until_short``: stop
        # once a round found fewer than ``limit`` (the money lane, whose follow-ups are not its
        # kinds, is woken again for what comes due meanwhile): no empty claim per payment.
        for _ in range(DRAIN_ROUNDS):
            run = self.stages.run_effects
            done = run(self.ctx, owner=self.owner, realm_id=realm, limit=limit, kinds=kinds)
            if done == 0 or self._stopping or (until_short and done < limit):
                break

    def _global(self, fn: Callable[[Context], object], name: str) -> Callable[[], None]:
        def job() -> None:
            if self._stopping:
                return
            try:
                fn(self.ctx)
            except AuthError as exc:
                # The account-wide Stripe key was refused: every company this replica runs waits.
                owned = set(self._renewed)  # other jobs renew leases meanwhile
                for realm in self.realms:
                    if realm in owned:
                        self._pause(realm, exc)
                log.warning("job_refused", job=name, error=str(exc))

        return job

    # -- stopping -----------------------------------------------------------------------------

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling, let in-flight jobs finish, then give back effect and company leases."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        for state in self._jobs.values():
            with state.done:
                state.done.notify_all()  # a rerun waiting out its spacing stops waiting
        if self._sched.running:
            self._sched.shutdown(wait=wait)
        self._lane.shutdown(wait=wait, cancel_futures=True)
        try:
            self.stages.release(self.ctx, self.owner)
        except Exception:
            log.exception("release_failed", owner=self.owner)
        self._renewed.clear()
        for realm in self.realms:
            try:
                leases.release(self.ctx.db, f"company:{realm}", self.owner)
            except Exception:
                log.exception("lease_release_failed", realm=realm)
        try:
            replicas.leave(self.ctx.db, self.owner)
        except Exception:
            log.exception("lease_release_failed", realm=None)
        log.info("scheduler_stopped", owner=self.owner)
