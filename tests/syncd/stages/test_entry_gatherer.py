"""The gatherer of money entries: when it waits for a batch to fill (the window), how many it takes
(30 at most), that one customer's entries never share a batch, which effects may be batched at all,
and that a batch's key follows from its members alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from syncd.catalog.payloads_batch import BatchMember, EntryBatch
from syncd.context import Context
from syncd.stages import batching
from syncd.store import effects
from syncd.store.effects import Claimed
from syncd.store.engine import Database

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REALM = "c1"


def _ctx(db: Database, now: list[datetime]) -> Context:
    unused = cast(Any, None)
    return Context(
        settings=unused,
        db=db,
        box=unused,
        qbo_factory=unused,
        stripe=unused,
        mailer=unused,
        qbo_app=unused,
        clock=lambda: now[0],
    )


def _fee(db: Database, n: int, *, at: datetime = T0, **payload: Any) -> str:
    key = f"qbo:fee:txn_{n}"
    with db.transaction() as s:
        effects.insert(
            s,
            key=key,
            kind="qbo.fee",
            company_id=REALM,
            payload={"payment_intent_id": f"pi_{n}", "balance_txn_id": f"txn_{n}", **payload},
            now=at,
            priority=2,
        )
    return key


def _payment(db: Database, ref: str, customer: str, *, at: datetime = T0) -> str:
    key = f"qbo:payment:{ref}"
    with db.transaction() as s:
        effects.insert(
            s,
            key=key,
            kind="qbo.payment",
            company_id=REALM,
            payload={"payment_key": f"pay:{ref}"},
            now=at,
            serial_group=f"money:{REALM}:{customer}",
            priority=0,
        )
    return key


class Sleeps:
    """Records each wait and moves the gatherer's clock (``now``, once bound) on by it."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.now: list[datetime] | None = None

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.now is not None:
            self.now[0] += timedelta(seconds=seconds)


def _pace() -> batching.Pace:
    return batching.Pace(patience=0)


def _gather(
    db: Database,
    now: datetime,
    *,
    window: float = 0.8,
    sleep: Sleeps | None = None,
    pace: batching.Pace | None = None,
) -> batching.Gathered:
    # at_least above what any test queues: every claimed entry comes back to go alone, which is
    # what these tests look at (composing is tested over the simulators).
    clock = [now]
    sleeps = sleep or Sleeps()
    sleeps.now = clock
    return batching.gather(
        _ctx(db, clock),
        REALM,
        owner="w1",
        window=window,
        at_least=31,
        sleep=sleeps,
        pace=pace or _pace(),
    )


def _batch(db: Database, n: int, *, at: datetime) -> None:
    with db.transaction() as s:
        key = f"qbo:entry_batch:c1:{n}"
        effects.insert(s, key=key, kind="qbo.entry_batch", company_id=REALM, payload={}, now=at)
        row = effects.get(s, key)
        assert row is not None
        row.status = "done"


def _backlog(
    due: int,
    *,
    waited: float = 0.0,
    queued: int = 0,
    batches: int = 0,
    since: float | None = None,
    bulk: int = 0,
) -> batching.Backlog:
    return batching.Backlog(
        due=due, waited=waited, queued=queued or due, batches=batches, since_batch=since, bulk=bulk
    )


PACED = batching.PACED_FROM  # money batches in the last minute from which small ones are spaced


def test_when_thirty_are_due_they_go_at_once_even_in_a_burst() -> None:
    assert batching.when(_backlog(30), window=0.5) == 0.0
    assert batching.when(_backlog(30, batches=batching.BURST, since=0.1), window=0.5) == 0.0
    assert batching.when(_backlog(0), window=0.5) is None


def test_when_a_lone_entry_goes_at_once_unless_others_are_coming() -> None:
    assert batching.when(_backlog(1), window=0.5) == 0.0
    # Another was queued a moment ago (and is not due yet): the lone one waits the window for it.
    assert batching.when(_backlog(1, queued=2, waited=0.1), window=0.5) == 0.4
    # A batch just went in a sustained flow: a lone entry waits for the spacing too.
    spaced = batching.when(_backlog(1, waited=0.5, since=1.5, batches=PACED), window=0.5)
    assert spaced == pytest.approx(batching.SPACING - 1.5)


def test_when_several_wait_the_window_from_the_oldest_then_go() -> None:
    assert batching.when(_backlog(5, waited=0.2), window=0.5) == 0.3
    assert batching.when(_backlog(5, waited=0.5), window=0.5) == 0.0
    assert batching.when(_backlog(29, waited=3.0, since=60.0), window=0.5) == 0.0


def test_when_in_a_flow_they_wait_for_it_to_pause_at_most_the_hold() -> None:
    flowing = _backlog(5, queued=9, waited=0.5)
    assert batching.when(replace(flowing, since_queued=0.1), window=0.5) == pytest.approx(0.4)
    assert batching.when(replace(flowing, since_queued=0.6), window=0.5) == 0.0  # it paused
    held = replace(flowing, waited=batching.HOLD - 0.1, since_queued=0.0)
    assert batching.when(held, window=0.5) == pytest.approx(0.1)
    assert batching.when(replace(held, waited=batching.HOLD), window=0.5) == 0.0


def test_when_a_full_batch_left_some_behind_in_a_flow_they_wait_for_the_next_to_fill() -> None:
    # They came due long ago, but a batch of 30 went 0.3 s ago: the hold counts from there.
    left = replace(_backlog(9, queued=40, waited=3.0, since=0.3), since_queued=0.05)
    assert batching.when(left, window=0.5) == pytest.approx(0.45)
    later = replace(left, since_queued=0.0, since_batch=batching.HOLD - 0.2)
    assert batching.when(later, window=0.5) == pytest.approx(0.2)
    assert batching.when(replace(later, since_batch=batching.HOLD), window=0.5) == 0.0
    # The flow paused: they go at once.
    assert batching.when(replace(left, since_queued=0.6), window=0.5) == 0.0


def test_when_fewer_than_thirty_keep_the_spacing_from_the_last_batch_in_a_sustained_flow() -> None:
    # A few seconds of flow: only the window.
    assert batching.when(_backlog(12, waited=2.0, since=0.1, batches=PACED - 1), window=0.5) == 0.0
    # The spacing is further than the window: the next pass takes them (no lane sleeps for long).
    assert batching.when(_backlog(12, waited=2.0, since=0.1, batches=PACED), window=0.5) is None
    soon = _backlog(12, waited=2.0, since=batching.SPACING - 0.4, batches=PACED)
    assert batching.when(soon, window=0.5) == pytest.approx(0.4)
    assert batching.when(_backlog(12, waited=2.0, since=batching.SPACING, batches=PACED), window=0.5) == 0.0


def test_when_in_a_burst_fewer_than_thirty_wait_for_the_budget() -> None:
    # Link write-backs ran this minute: money keeps to its share of the batch calls.
    busy = _backlog(29, waited=30.0, batches=batching.BURST, since=5.0, bulk=1)
    assert batching.when(busy, window=0.5) is None
    assert batching.when(replace(busy, batches=batching.BURST - 1), window=0.5) == 0.0
    # None ran: money has all but the reads' reserve.
    idle = replace(busy, bulk=0)
    assert idle.share == batching.BATCHES_PER_MINUTE - batching.READS_RESERVE
    assert batching.when(idle, window=0.5) == 0.0
    assert batching.when(replace(idle, batches=idle.share), window=0.5) is None


def test_when_link_write_backs_hold_the_batch_budget_entries_go_alone_at_once() -> None:
    taken = _backlog(3, waited=0.0, queued=9, batches=2, since=0.5, bulk=batching.BURST + 6)
    assert taken.budget_taken and batching.when(taken, window=0.5) == 0.0
    # Money's own burst spent it: they wait for full batches, not alone.
    burst = _backlog(3, waited=0.0, batches=batching.BURST, since=0.5, bulk=8)
    assert not burst.budget_taken and batching.when(burst, window=0.5) is None
    assert not _backlog(3, batches=2, bulk=batching.BURST).budget_taken


def test_the_spacing_keeps_small_batches_within_moneys_share_of_the_budget() -> None:
    assert 60.0 / batching.SPACING == batching.BURST <= 40


def test_one_due_entry_goes_at_once_without_waiting(db: Database) -> None:
    key = _fee(db, 1)
    sleeps = Sleeps()
    got = _gather(db, T0, sleep=sleeps)
    assert sleeps.calls == [] and [e.key for e in got.singles] == [key] and got.batches == ()


def test_several_due_wait_for_the_flow_to_pause(db: Database) -> None:
    _fee(db, 1, at=T0 - timedelta(seconds=0.3))
    _fee(db, 2)
    sleeps = Sleeps()
    got = _gather(db, T0, window=0.8, sleep=sleeps)
    # The newest was queued just now: they wait the window for the flow to pause, then go.
    assert sleeps.calls == [0.8]
    assert len(got.singles) == 2


def test_no_wait_once_the_window_has_passed_or_a_batch_is_full(db: Database) -> None:
    for n in range(3):
        _fee(db, n, at=T0 - timedelta(seconds=2))
    sleeps = Sleeps()
    assert len(_gather(db, T0, sleep=sleeps).singles) == 3
    for n in range(10, 45):
        _fee(db, n)
    assert len(_gather(db, T0, sleep=sleeps).singles) == 30
    assert sleeps.calls == []


def test_a_recent_batch_spaces_the_next_small_one_in_a_sustained_flow(db: Database) -> None:
    for n in range(PACED):
        _batch(db, n, at=T0 - timedelta(seconds=30 - n))
    _batch(db, PACED, at=T0 - timedelta(seconds=1))
    for n in range(3):
        _fee(db, n, at=T0 - timedelta(seconds=2))
    sleeps = Sleeps()
    assert _gather(db, T0, window=0.5, sleep=sleeps) == batching.Gathered()  # the next pass
    got = _gather(db, T0, window=1.0, sleep=sleeps)
    assert len(got.singles) == 3 and sleeps.calls == [pytest.approx(batching.SPACING - 1)]


def test_at_most_thirty_are_taken_oldest_first(db: Database) -> None:
    keys = [_fee(db, n, at=T0 + timedelta(milliseconds=n)) for n in range(35)]
    got = _gather(db, T0 + timedelta(seconds=1))
    assert [e.key for e in got.singles] == keys[:30]
    with db.transaction() as s:
        assert (
            effects.ready(s, now=T0 + timedelta(seconds=1), company_id=REALM, kinds=batching.BATCHABLE)[0]
            == 5
        )


def test_one_customers_entries_never_share_a_pass(db: Database) -> None:
    first = _payment(db, "pi_a1", "7")
    _payment(db, "pi_a2", "7", at=T0 + timedelta(milliseconds=1))
    other = _payment(db, "pi_b1", "8")
    got = _gather(db, T0 + timedelta(seconds=1))
    assert sorted(e.key for e in got.singles) == sorted([first, other])


def test_only_first_attempts_not_given_back_are_batchable() -> None:
    def claimed(kind: str, attempts: int, **payload: Any) -> Claimed:
        return Claimed(1, "k", kind, REALM, payload, attempts, "w1")

    assert batching.batchable(claimed("qbo.fee", 1))
    assert batching.batchable(claimed("qbo.payment", 1, payment_key="p"))
    # Tried alone before: its own requestid may have reached QBO, so a batch could write it twice.
    assert not batching.batchable(claimed("qbo.payment", 2, payment_key="p"))
    assert not batching.batchable(claimed("qbo.fee", 1, single=True))  # a batch gave it back
    assert not batching.batchable(claimed("qbo.refund", 1))


def test_a_batch_key_is_its_members_and_nothing_else() -> None:
    a, b, c = (BatchMember(f"qbo:fee:{n}", "qbo.fee", "{}") for n in "abc")
    assert EntryBatch.of_members([a, b]).key(REALM) == EntryBatch.of_members([b, a]).key(REALM)
    assert EntryBatch.of_members([a, b]).key(REALM) != EntryBatch.of_members([a, b, c]).key(REALM)
    assert EntryBatch.of_members([a, b]).key(REALM) != EntryBatch.of_members([a, b]).key("c2")


def test_one_gatherer_per_company_at_a_time(db: Database) -> None:
    _fee(db, 1)
    pace = _pace()
    with pace.turn(REALM) as mine:
        assert mine
        assert _gather(db, T0, pace=pace) == batching.Gathered()  # another pass is at it
    assert len(_gather(db, T0, pace=pace).singles) == 1


def test_due_entries_go_alone_while_link_write_backs_hold_the_budget(db: Database) -> None:
    with db.transaction() as s:
        for n in range(batching.BATCHES_PER_MINUTE):
            key = f"qbo:invoice_links:c1:{n}"
            effects.insert(s, key=key, kind="qbo.invoice_links", company_id=REALM, payload={}, now=T0)
            row = effects.get(s, key)
            assert row is not None
            row.status, row.done_at = "done", T0
    for n in range(3):
        _fee(db, n)
    _payment(db, "pi_z", "9")
    sleeps = Sleeps()
    got = batching.gather(_ctx(db, [T0]), REALM, owner="w1", window=0.8, sleep=sleeps, pace=_pace())
    assert len(got.singles) == 4 and got.batches == () and sleeps.calls == []


def test_in_a_burst_only_full_batches_are_gathered(db: Database) -> None:
    for n in range(batching.BATCHES_PER_MINUTE - batching.READS_RESERVE):  # no link write-back ran
        _batch(db, n, at=T0)
    for n in range(29):
        _fee(db, n)
    later = T0 + timedelta(seconds=30)
    assert _gather(db, later) == batching.Gathered()  # QBO's batch budget is what they wait for
    _fee(db, 29, at=later)
    assert len(_gather(db, later).singles) == 30
    for n in range(30, 59):
        _fee(db, n, at=later)
    assert len(_gather(db, later + timedelta(seconds=31)).singles) == 29  # the burst slid out
