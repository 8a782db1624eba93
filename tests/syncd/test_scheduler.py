"""The schedule: wakes, isolation between companies, company leases, pausing, clean shutdown."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from virtual_clock import VirtualClock

from syncd.bootstrap import build_context
from syncd.companies import ensure_companies
from syncd.config import parse
from syncd.context import Context, token_store
from syncd.errors import AuthError, Credential, ReconnectNeededError
from syncd.scheduler.jobs import JobState
from syncd.scheduler.schedule import Scheduler
from syncd.scheduler.stages import Stages
from syncd.secrets import SecretBox
from syncd.store import accounts, effects, leases, replicas
from syncd.store.models import AccountSession, Company

WAIT = 10.0


class Calls:
    """Fake stages recording each call; ``fail`` maps a realm to the exception its pull raises."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pulls: list[str] = []
        self.effects: list[str | None] = []
        self.kinds: list[tuple[str, ...] | None] = []
        self.busy: threading.Event | None = None
        self.released: list[str] = []
        self.fail: dict[str, Exception] = {}
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def cycle(self, ctx: Context, realm: str) -> None:
        with self.lock:
            self.pulls.append(realm)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(WAIT)
        if realm in self.fail:
            raise self.fail[realm]

    def run_effects(
        self,
        ctx: Context,
        *,
        owner: str,
        realm_id: str | None = None,
        limit: int = 50,
        kinds: Iterable[str] | None = None,
    ) -> int:
        with self.lock:
            self.effects.append(realm_id)
            self.kinds.append(tuple(kinds) if kinds is not None else None)
        if kinds is None and self.busy is not None:
            self.busy.wait(WAIT)  # the general worker, deep in a first sync's backlog
        return 0

    def release(self, ctx: Context, owner: str) -> None:
        self.released.append(owner)

    def stages(self) -> Stages:
        return Stages(
            cycle=self.cycle,
            run_effects=self.run_effects,
            ingest=lambda ctx: 0,
            backfill=lambda ctx: 0,
            release=self.release,
            refresh=lambda ctx, realm: None,
        )


@pytest.fixture
def ctx(database_url: str) -> Iterator[Context]:
    raw: dict[str, Any] = {
        "secret_key": SecretBox.generate(),
        "database": {"url": database_url},
        "stripe": {"api_key": "sk_test_1", "webhook_secret": "whsec_1"},
        "scheduler": {"pull_seconds": 3600, "worker_seconds": 3600, "inbox_seconds": 3600},
        "company": [{"realm_id": "111"}, {"realm_id": "222"}],
    }
    context = build_context(parse(raw))
    ensure_companies(context)
    yield context
    context.db.dispose()


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def sched(ctx: Context, calls: Calls) -> Iterator[Scheduler]:
    # Pulls spaced 0.1 s rather than 5 s: the spacing has its own test below.
    scheduler = Scheduler(ctx, stages=calls.stages(), owner="me", pull_spacing=0.1)
    ctx.wake = scheduler.wake
    yield scheduler
    scheduler.shutdown()


def due(ctx: Context, *realms: str) -> None:
    """A payment effect due for each of ``realms``: the lanes go only where work is due."""
    with ctx.db.transaction() as session:
        for realm in realms:
            effects.insert(
                session,
                key=f"qbo:payment:{realm}",
                kind="qbo.payment",
                company_id=realm,
                payload={},
                now=ctx.clock(),
            )


def status_of(ctx: Context, realm: str) -> str:
    with ctx.db.transaction() as session:
        row = session.get(Company, realm)
        assert row is not None
        return row.status


def test_jobs_built_from_config(sched: Scheduler) -> None:
    sched.start()
    assert sched.job_ids == [
        "backfill",
        "cleanup",
        "ingest",
        "leases",
        "money",
        "pull:111",
        "pull:222",
        "refresh:111",
        "refresh:222",
        "worker",
    ]


def test_first_pull_runs_at_start_and_wake_runs_it_again(sched: Scheduler, calls: Calls) -> None:
    sched.start()
    assert sched.wait_for_run("pull:111", 0, WAIT)
    before = sched.runs("pull:111")
    sched.wake("pull", "111")
    assert sched.wait_for_run("pull:111", before, WAIT)
    assert calls.pulls.count("111") == 2


def test_a_wake_while_apscheduler_still_counts_the_last_run_is_not_lost(
    sched: Scheduler, calls: Calls
) -> None:
    # APScheduler forgets a run only in a callback after ``_run`` returned; on a loaded machine a
    # wake can land before that. Hold that moment open so this wake surely lands inside it.
    executor = sched._jobs.sched._lookup_executor("default")
    forget = executor._run_job_success
    held = threading.Event()

    def late(job_id: str, events: list[Any]) -> None:
        if job_id == "pull:111":
            held.wait(WAIT)
        forget(job_id, events)

    executor._run_job_success = late
    try:
        sched.start()
        assert sched.wait_for_run("pull:111", 0, WAIT)
        sched.wake("pull", "111")
        assert sched.wait_for_run("pull:111", 1, WAIT)
        assert calls.pulls.count("111") == 2
    finally:
        held.set()


def test_a_wake_as_a_run_ends_is_not_lost(ctx: Context, calls: Calls) -> None:
    just_pulled = threading.local()

    def cycle(context: Context, realm: str) -> None:
        calls.cycle(context, realm)
        just_pulled.realm = realm

    scheduler = Scheduler(ctx, stages=dataclasses.replace(calls.stages(), cycle=cycle), owner="me")
    lock = scheduler._jobs.lock

    class WakeAsTheRunEnds:
        """The scheduler's lock; the first time a pull's thread lets go of it after pulling, a
        wake arrives from another thread right then: the narrowest gap a real wake can hit."""

        def __enter__(self) -> None:
            lock.acquire()

        def __exit__(self, *exc: object) -> None:
            lock.release()
            if getattr(just_pulled, "realm", None) == "111" and calls.pulls.count("111") == 1:
                just_pulled.realm = None
                waker = threading.Thread(target=scheduler.wake, args=("pull", "111"))
                waker.start()
                waker.join(WAIT)

    scheduler._jobs.lock = WakeAsTheRunEnds()  # type: ignore[assignment]
    try:
        scheduler.start()
        assert scheduler.wait_for_run("pull:111", 1, WAIT)
        assert calls.pulls.count("111") == 2
    finally:
        scheduler.shutdown()


def test_wake_during_a_run_is_not_lost(sched: Scheduler, calls: Calls) -> None:
    calls.gate = threading.Event()
    sched.start()
    assert calls.entered.wait(WAIT)
    # Both first pulls are in flight (blocked on the gate) before the wakes arrive.
    for _ in range(200):
        if len(calls.pulls) >= 2:
            break
        threading.Event().wait(0.05)
    assert sorted(calls.pulls) == ["111", "222"]
    sched.wake("pull", "111")
    sched.wake("pull", "222")
    calls.gate.set()
    deadline = threading.Event()
    for _ in range(200):
        if calls.pulls.count("111") >= 2 and calls.pulls.count("222") >= 2:
            break
        deadline.wait(0.05)
    assert calls.pulls.count("111") >= 2
    assert calls.pulls.count("222") >= 2


def test_a_failing_company_does_not_stop_another(sched: Scheduler, calls: Calls) -> None:
    calls.fail["111"] = RuntimeError("bad invoice")
    sched.start()
    assert sched.wait_for_run("pull:111", 0, WAIT)
    assert sched.wait_for_run("pull:222", 0, WAIT)
    assert "222" in calls.pulls
    # The failed job stays scheduled and runs again when woken.
    sched.wake("pull", "111")
    assert sched.wait_for_run("pull:111", 1, WAIT)
    assert calls.pulls.count("111") == 2


def test_company_owned_by_another_replica_is_skipped(ctx: Context, sched: Scheduler, calls: Calls) -> None:
    assert leases.acquire(ctx.db, "company:111", "other-replica", now=ctx.clock(), seconds=600)
    due(ctx, "111", "222")
    sched.start()
    assert sched.wait_for_run("pull:111", 0, WAIT)
    assert sched.wait_for_run("pull:222", 0, WAIT)
    assert sched.wait_for_run("worker", 0, WAIT)
    assert sched.wait_for_run("money", 0, WAIT)
    assert calls.pulls == ["222"]
    assert set(calls.effects) == {"222"}  # the worker and the money lane, for 222 only


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    """Every event logged meanwhile (``logging_kept`` undoes what an in-process run configured)."""
    with structlog.testing.capture_logs() as events:
        yield events


def test_a_company_owned_elsewhere_is_logged_once_not_every_cycle(
    ctx: Context, sched: Scheduler, logged: list[dict[str, Any]]
) -> None:
    assert leases.acquire(ctx.db, "company:111", "other-replica", now=ctx.clock(), seconds=600)
    for _ in range(5):
        assert not sched.owns("111")
    leases.release(ctx.db, "company:111", "other-replica")
    assert sched.owns("111")
    said = [(e["event"], e["log_level"]) for e in logged if e.get("realm") == "111"]
    assert said == [("company_owned_elsewhere", "info"), ("company_taken_over", "info")]


def test_a_refused_stripe_key_in_the_backfill_pauses_the_companies_this_replica_runs(
    ctx: Context, calls: Calls, logged: list[dict[str, Any]]
) -> None:
    def refused(context: Context) -> int:
        raise AuthError("AuthenticationError: Invalid API Key provided", credential=Credential.STRIPE_KEY)

    stages = dataclasses.replace(calls.stages(), backfill=refused)
    scheduler = Scheduler(ctx, stages=stages, owner="me")
    try:
        assert scheduler.owns("111") and scheduler.owns("222")
        scheduler.start()
        assert scheduler.wait_for_run("backfill", 0, WAIT)
        assert status_of(ctx, "111") == status_of(ctx, "222") == "paused"
        refusals = [e for e in logged if e["event"] == "job_refused"]
        assert refusals and all("exc_info" not in e for e in refusals)
        assert not [e for e in logged if e["event"] == "job_failed"]
    finally:
        scheduler.shutdown()


def test_expired_lease_of_a_dead_replica_is_taken_over(ctx: Context, sched: Scheduler, calls: Calls) -> None:
    past = ctx.clock() - timedelta(hours=1)
    assert leases.acquire(ctx.db, "company:111", "dead-replica", now=past, seconds=60)
    sched.start()
    assert sched.wait_for_run("pull:111", 0, WAIT)
    assert "111" in calls.pulls
    assert leases.holder(ctx.db, "company:111", now=ctx.clock()) == "me"


def test_auth_error_pauses_company_until_reconnected(ctx: Context, sched: Scheduler, calls: Calls) -> None:
    calls.fail["111"] = ReconnectNeededError("invalid_grant")
    sched.start()
    assert sched.wait_for_run("pull:111", 0, WAIT)
    assert status_of(ctx, "111") == "reconnect_needed"
    assert status_of(ctx, "222") == "active"
    sched.wake("pull", "111")
    assert sched.wait_for_run("pull:111", 1, WAIT)
    assert calls.pulls.count("111") == 1  # paused: the job ran but did not pull
    # A person reconnects: new tokens un-pause the company.
    del calls.fail["111"]
    from syncd.ports.quickbooks import QboTokens

    now = ctx.clock()
    token_store(ctx).save("111", QboTokens("a", "r", now + timedelta(hours=1), None))
    sched.wake("pull", "111")
    assert sched.wait_for_run("pull:111", 2, WAIT)
    assert calls.pulls.count("111") == 2
    assert status_of(ctx, "111") == "active"


def test_shutdown_releases_effect_and_company_leases(ctx: Context, calls: Calls) -> None:
    scheduler = Scheduler(ctx, stages=calls.stages(), owner="me")
    assert not scheduler.running
    scheduler.start()
    assert scheduler.running
    assert scheduler.wait_for_run("pull:111", 0, WAIT)
    assert leases.holder(ctx.db, "company:111", now=ctx.clock()) == "me"
    scheduler.shutdown()
    assert not scheduler.running
    assert calls.released == ["me"]
    assert leases.holder(ctx.db, "company:111", now=ctx.clock()) is None
    scheduler.wake("pull", "111")  # after shutdown: harmless


def test_wake_of_unknown_job_is_ignored(sched: Scheduler) -> None:
    sched.start()
    sched.wake("pull", "999")
    sched.wake("nonsense", None)


def test_lease_renewal_is_cached_briefly_then_rechecked(
    ctx: Context, calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cache's own clock, moved by the test: a slow write on a loaded machine moves nothing.
    clock = VirtualClock()
    monkeypatch.setattr("syncd.scheduler.ownership.time", SimpleNamespace(monotonic=clock))
    scheduler = Scheduler(ctx, stages=calls.stages(), owner="me", lease_seconds=60)
    try:
        assert scheduler.owns("111")
        # Another replica takes the company over (our lease lapsed while we were stalled).
        later = ctx.clock() + timedelta(hours=1)
        assert leases.acquire(ctx.db, "company:111", "other", now=later, seconds=3600)
        clock.sleep(19)
        assert scheduler.owns("111")  # within a third of the lease: trusted without a write
        clock.sleep(2)
        assert not scheduler.owns("111")  # rechecked: the other replica's live lease wins
    finally:
        scheduler.shutdown()
    assert leases.holder(ctx.db, "company:111", now=later) == "other"


def test_the_money_lane_runs_while_the_general_worker_is_busy(
    ctx: Context, sched: Scheduler, calls: Calls
) -> None:
    from syncd.scheduler.schedule import MONEY_KINDS

    due(ctx, "111")
    calls.busy = threading.Event()
    sched.start()
    assert sched.wait_for_run("money", 0, WAIT)
    before = sched.runs("money")
    sched.wake("worker")  # as ingesting a Stripe event does: its QBO Payment is due now
    assert sched.wait_for_run("money", before, WAIT)
    # The money job hands the company to its lane's pool and returns: wait for the lane.
    deadline = time.monotonic() + WAIT
    while tuple(MONEY_KINDS) not in calls.kinds and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sched.runs("worker") == 0  # still busy
    assert tuple(MONEY_KINDS) in calls.kinds and "qbo.payment" in MONEY_KINDS
    calls.busy.set()


def test_the_cleanup_job_deletes_old_sign_in_rows_at_start_and_hourly(ctx: Context, sched: Scheduler) -> None:
    now = ctx.clock()
    with ctx.db.transaction() as session:
        for digest, opened in (("old" * 21 + "o", now - timedelta(days=3)), ("new" * 21 + "n", now)):
            accounts.open_session(session, session_digest=digest, now=opened, email="a@b.test")
    sched.start()
    assert sched.wait_for_run("cleanup", 0, WAIT)
    with ctx.db.transaction() as session:
        assert [r.digest for r in session.query(AccountSession)] == ["new" * 21 + "n"]
    job = sched._jobs.sched.get_job("cleanup")
    assert job is not None and job.trigger.interval == timedelta(hours=1)


def test_a_takeover_frees_the_dead_owners_claims_and_pulls_at_once(
    ctx: Context, sched: Scheduler, calls: Calls
) -> None:
    assert leases.acquire(ctx.db, "company:111", "other-replica", now=ctx.clock(), seconds=600)
    with ctx.db.transaction() as session:
        effects.insert(session, key="e1", kind="email.notice", company_id="111", payload={}, now=ctx.clock())
    assert effects.claim(ctx.db, owner="other-replica", now=ctx.clock(), lease_seconds=3600)
    sched.start()
    assert sched.wait_for_run("pull:111", 0, WAIT)
    assert "111" not in calls.pulls
    # The other replica dies: its lease lapses (as if last renewed an hour ago).
    past = ctx.clock() - timedelta(hours=1)
    assert leases.acquire(ctx.db, "company:111", "other-replica", now=past, seconds=60)
    before, beats = sched.runs("pull:111"), sched.runs("leases")
    sched.wake("leases")
    assert sched.wait_for_run("leases", beats, WAIT)
    assert sched.wait_for_run("pull:111", before, WAIT)  # woken by the takeover, not in an hour
    assert "111" in calls.pulls
    assert [c.key for c in effects.claim(ctx.db, owner="next", now=ctx.clock())] == ["e1"]


def test_a_pull_asked_for_on_another_replica_runs_on_the_owner(
    ctx: Context, sched: Scheduler, calls: Calls
) -> None:
    sched.start()
    assert sched.wait_for_run("leases", 0, WAIT)
    assert sched.wait_for_run("pull:111", 0, WAIT)
    before = sched.runs("pull:111")
    other = Scheduler(ctx, stages=calls.stages(), owner="other")  # not started: a web tier only
    assert not other.owns("111")
    other.wake("pull", "111")  # a QBO webhook reached the replica that does not own 111
    leases_before = sched.runs("leases")
    sched.wake("leases")
    assert sched.wait_for_run("leases", leases_before, WAIT)
    assert sched.wait_for_run("pull:111", before, WAIT)
    assert calls.pulls.count("111") == 2
    assert leases.take_requests(ctx.db, ["pull:111"], now=ctx.clock()) == []  # taken once


def test_the_lanes_go_only_to_companies_with_work_due(ctx: Context, sched: Scheduler, calls: Calls) -> None:
    due(ctx, "222")
    sched.start()
    assert sched.wait_for_run("worker", 0, WAIT)
    assert sched.wait_for_run("money", 0, WAIT)
    assert set(calls.effects) == {"222"}


def test_a_woken_pull_waits_out_the_spacing_after_the_last(ctx: Context, calls: Calls) -> None:
    scheduler = Scheduler(ctx, stages=calls.stages(), owner="me", pull_spacing=3.0)
    try:
        scheduler.start()
        assert scheduler.wait_for_run("pull:111", 0, WAIT)
        scheduler.wake("pull", "111")
        assert not scheduler.wait_for_run("pull:111", 1, 1.0)  # not at once
        assert scheduler.wait_for_run("pull:111", 1, WAIT)
    finally:
        scheduler.shutdown()


def _holders(ctx: Context, at: Any = None) -> dict[str, str | None]:
    now = at or ctx.clock()
    return {realm: leases.holder(ctx.db, f"company:{realm}", now=now) for realm in ("111", "222")}


def test_replicas_share_the_companies_and_a_survivor_takes_a_dead_ones(ctx: Context, calls: Calls) -> None:
    first = Scheduler(ctx, stages=calls.stages(), owner="a", lease_seconds=60)
    second = Scheduler(ctx, stages=calls.stages(), owner="b", lease_seconds=60)
    try:
        first._ownership.beat()  # alone: its fair share is every company
        assert _holders(ctx) == {"111": "a", "222": "a"}
        second._ownership.beat()  # two live replicas: one company each, none free yet
        assert _holders(ctx) == {"111": "a", "222": "a"}
        assert not second.owns("222")
        first._ownership.beat()  # holds one beyond its share: gives the last back
        assert _holders(ctx) == {"111": "a", "222": None}
        assert not first.owns("222")  # nor takes it again
        second._ownership.beat()
        assert _holders(ctx) == {"111": "a", "222": "b"}
        # "a" dies: its company and replica leases lapse, and the survivor's share is both.
        later = ctx.clock() + timedelta(seconds=61)
        second._ownership.ctx = dataclasses.replace(ctx, clock=lambda: later)
        second._ownership.renewed.clear()  # a minute later: every renewal is rechecked
        second._ownership.beat()
        assert _holders(ctx, later) == {"111": "b", "222": "b"}
    finally:
        second.shutdown()
        first.shutdown()


def test_a_replica_mid_cycle_gives_the_company_back_after_the_cycle(ctx: Context, calls: Calls) -> None:
    first = Scheduler(ctx, stages=calls.stages(), owner="a", lease_seconds=60)
    try:
        first._ownership.beat()
        replicas.beat(ctx.db, "b", now=ctx.clock(), seconds=60)
        first._jobs.states["pull:222"] = JobState(lambda: None, running=True)
        first._ownership.beat()
        assert _holders(ctx)["222"] == "a"  # its pull is running: kept for now
        first._jobs.states["pull:222"].running = False
        first._ownership.beat()
        assert _holders(ctx)["222"] is None
    finally:
        first.shutdown()


def test_the_money_lane_serves_many_companies_side_by_side(database_url: str) -> None:
    """Payments of many companies arriving together are booked side by side, not four at a time:
    a lane of four serving 20 payments a second queued them behind each other (p95 3.3 s)."""
    from syncd.scheduler.schedule import MONEY_KINDS

    realms = [str(9000 + i) for i in range(12)]
    raw: dict[str, Any] = {
        "secret_key": SecretBox.generate(),
        "database": {"url": database_url},
        "stripe": {"api_key": "sk_test_1", "webhook_secret": "whsec_1"},
        "scheduler": {"pull_seconds": 3600, "worker_seconds": 3600, "inbox_seconds": 3600},
        "company": [{"realm_id": realm} for realm in realms],
    }
    context = build_context(parse(raw))
    ensure_companies(context)
    lock = threading.Lock()
    inside: set[str] = set()
    peak = 0
    release = threading.Event()

    def run_effects(ctx: Context, *, owner: str, realm_id: str | None = None, **kw: Any) -> int:
        nonlocal peak
        if kw.get("kinds") is None or tuple(kw["kinds"]) != tuple(MONEY_KINDS) or realm_id is None:
            return 0
        with lock:
            inside.add(realm_id)
            peak = max(peak, len(inside))
        release.wait(WAIT)
        return 0

    stages = dataclasses.replace(Calls().stages(), run_effects=run_effects)
    scheduler = Scheduler(context, stages=stages, owner="me")
    try:
        due(context, *realms)
        scheduler.start()
        deadline = time.monotonic() + WAIT
        while peak < len(realms) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert peak == len(realms)
    finally:
        release.set()
        scheduler.shutdown()
        context.db.dispose()


def test_a_money_round_that_found_less_than_its_limit_is_the_last(ctx: Context) -> None:
    """A payment costs its lane one claim, not a second one that finds nothing: what comes due
    meanwhile wakes the lane again."""
    from syncd.scheduler.schedule import MONEY_KINDS

    money_rounds: list[str] = []
    served = threading.Event()

    def run_effects(ctx: Context, *, owner: str, realm_id: str | None = None, **kw: Any) -> int:
        if kw.get("kinds") is None or tuple(kw["kinds"]) != tuple(MONEY_KINDS) or realm_id is None:
            return 0
        money_rounds.append(realm_id)
        served.set()
        return 1  # one payment performed, of a limit of ten

    stages = dataclasses.replace(Calls().stages(), run_effects=run_effects)
    scheduler = Scheduler(ctx, stages=stages, owner="me")
    try:
        due(ctx, "222")
        scheduler.start()
        assert served.wait(WAIT)
    finally:
        scheduler.shutdown()  # waits for the lane's pass to end
    assert money_rounds == ["222"]
