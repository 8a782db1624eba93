"""The Scheduler: syncd's jobs built from configuration; a company's jobs run on its owner only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import structlog
from sqlalchemy import select

from syncd import companies
from syncd.companies import CompanyStatus
from syncd.context import Context
from syncd.errors import AuthError
from syncd.scheduler.jobs import PULL_SPACING, Jobs
from syncd.scheduler.lane import Lane
from syncd.scheduler.ownership import Ownership, default_owner
from syncd.scheduler.stages import Stages, real_stages
from syncd.store import effects
from syncd.store.models import Company
from syncd.store.turnstile import urgent
from syncd.turns import Turns

log = structlog.get_logger(__name__)

ACTIVE = CompanyStatus.ACTIVE.value
DRAIN_ROUNDS = 20
# The effects a payer or the books wait on (priority 0): they also run in the money lane.
# A batch of money entries (``stages.batching``) is performed there too; the lane gathers the
# company's due fees into its batches with its Payments.
MONEY_KINDS = ("qbo.payment", "qbo.void", "stripe.checkout", "stripe.expire_checkout", "qbo.entry_batch")
STAFF_ONLY = ("email.staff",)
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


class Scheduler:
    """syncd's jobs on APScheduler 3 (``syncd.scheduler.jobs``); ``wake`` runs one now."""

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
        self.stages = stages or real_stages()
        self.owner = owner or default_owner()
        iv = ctx.settings.intervals
        # Renewed every third of it, so a few worker intervals at least.
        self.lease_seconds = lease_seconds or max(iv.lease_seconds, 5 * iv.worker_seconds)
        self.realms = tuple(c.realm_id for c in ctx.settings.companies)
        self._jobs = Jobs(max_workers or 4 + 2 * len(self.realms), pull_spacing=pull_spacing)
        self._ownership = Ownership(
            ctx,
            owner=self.owner,
            realms=self.realms,
            lease_seconds=self.lease_seconds,
            jobs=self._jobs,
            wake=self.wake,
        )
        self._cycles = Turns(CYCLES_AT_ONCE)
        self._money = Lane(self._jobs, workers=MONEY_COMPANIES_AT_ONCE, name="money")

    # -- building -----------------------------------------------------------------------------

    def start(self) -> Scheduler:
        iv = self.ctx.settings.intervals
        now = datetime.now(UTC)
        add = self._jobs.add
        self._ownership.count()  # before any job takes a company
        for realm in self.realms:
            cycle = self._company_job(realm, self._gated_cycle)
            refresh = self._company_job(realm, self.stages.refresh)
            add(f"pull:{realm}", cycle, iv.pull_seconds, first=now)
            add(f"refresh:{realm}", refresh, iv.refresh_seconds, first=None)
        add("leases", self._ownership.beat, iv.worker_seconds, first=now)
        add("worker", self._worker, iv.worker_seconds, first=now)
        add("money", self._money_worker, iv.worker_seconds, first=now)
        add("ingest", self._global(self.stages.ingest, "ingest"), iv.inbox_seconds, first=now)
        add("backfill", self._global(self.stages.backfill, "backfill"), iv.backfill_seconds, first=now)
        add("cleanup", self._global(self.stages.cleanup, "cleanup"), CLEANUP_SECONDS, first=now)
        self._jobs.start()
        log.info("scheduler_started", owner=self.owner, companies=len(self.realms))
        return self

    @property
    def running(self) -> bool:
        """The scheduler thread is alive and accepting jobs (the systemd watchdog asks)."""
        return self._jobs.running

    @property
    def job_ids(self) -> list[str]:
        return self._jobs.ids

    # -- running ------------------------------------------------------------------------------

    def wake(self, job: str, realm: str | None = None) -> None:
        """Run ``job`` (``pull``/``refresh`` with a realm; ``worker``, ``ingest``, ``backfill``) now.
        A wake during a run makes the job run once more right after, so no wake is lost; a pull
        runs at most once per ``pull_spacing`` seconds."""
        if job == "worker" and realm is None and "money" in self._jobs.states:
            self.wake("money")  # whatever woke the worker may have queued money
        if job == "pull" and realm is not None:
            self._ownership.ask_pull(realm)
        self._jobs.run_now(f"{job}:{realm}" if realm else job)

    def runs(self, job_id: str) -> int:
        return self._jobs.runs(job_id)

    def wait_for_run(self, job_id: str, after: int, timeout: float) -> bool:
        """Block until ``job_id`` completed more than ``after`` runs (tests, the bench)."""
        return self._jobs.wait_for_run(job_id, after, timeout)

    # -- ownership and pausing ----------------------------------------------------------------

    def owns(self, realm: str) -> bool:
        """Take or renew the company's lease (``syncd.scheduler.ownership``)."""
        return self._ownership.owns(realm)

    def runnable(self, realm: str) -> bool:
        """False while a company waits for a person (see ``syncd.companies``): a refused
        credential that has not changed since, or a pause only ``syncd resume`` lifts."""
        return companies.runnable(self.ctx, realm)

    def _pause(self, realm: str, exc: AuthError) -> None:
        companies.pause(self.ctx, realm, exc)

    # -- the jobs -----------------------------------------------------------------------------

    def _company_job(self, realm: str, fn: Callable[[Context, str], object]) -> Callable[[], None]:
        def job() -> None:
            if self._jobs.stopping or not self.owns(realm) or not self.runnable(realm):
                return
            try:
                fn(self.ctx, realm)
            except AuthError as exc:
                self._pause(realm, exc)

        return job

    def _gated_cycle(self, ctx: Context, realm: str) -> None:
        with self._cycles.turn(realm):
            if not self._jobs.stopping:
                self.stages.cycle(ctx, realm)

    def _worker(self) -> None:
        def work(realm: str) -> None:
            if self.runnable(realm):
                self._drain(realm, limit=50)
            else:
                # Waiting for a person: only the alerts telling staff so may go out.
                self.stages.run_effects(self.ctx, owner=self.owner, realm_id=realm, kinds=STAFF_ONLY)

        self._each_owned(work, "worker_failed", kinds=None)

    def _money_worker(self) -> None:
        """A lane of its own for money effects: a paid invoice reaches QBO in seconds even while
        the general worker is deep in a first sync's thousands of emails and link write-backs.
        Each company with money due is handed to the lane's pool and this pass returns at once:
        a payment never waits for another company's slower one to finish."""

        def work(realm: str) -> None:
            # An active company (as of the pass that found its money due) needs no second look.
            if realm in active or self.runnable(realm):
                self._drain(realm, limit=10, kinds=MONEY_KINDS, until_short=True)

        def serve(realm: str) -> None:
            with urgent():  # its claims and records go before first syncs' transactions
                self._each_owned(work, "money_worker_failed", kinds=None, realms=[realm])

        with urgent(), self.ctx.db.transaction() as session:
            due = effects.due_companies(
                session, now=self.ctx.clock(), companies=self.realms, kinds=MONEY_KINDS
            )
            active = set(
                session.scalars(
                    select(Company.realm_id).where(Company.realm_id.in_(due), Company.status == ACTIVE)
                )
            )
        self._money.hand(due, serve)

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
            if self._jobs.stopping:
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
            if done == 0 or self._jobs.stopping or (until_short and done < limit):
                break

    def _global(self, fn: Callable[[Context], object], name: str) -> Callable[[], None]:
        def job() -> None:
            if self._jobs.stopping:
                return
            try:
                fn(self.ctx)
            except AuthError as exc:
                # The account-wide Stripe key was refused: every company this replica runs waits.
                owned = self._ownership.held()
                for realm in self.realms:
                    if realm in owned:
                        self._pause(realm, exc)
                log.warning("job_refused", job=name, error=str(exc))

        return job

    # -- stopping -----------------------------------------------------------------------------

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling, let in-flight jobs finish, then give back effect and company leases."""
        if not self._jobs.stop(wait):
            return
        self._money.shutdown(wait)
        try:
            self.stages.release(self.ctx, self.owner)
        except Exception:
            log.exception("release_failed", owner=self.owner)
        self._ownership.release_all()
        log.info("scheduler_stopped", owner=self.owner)
