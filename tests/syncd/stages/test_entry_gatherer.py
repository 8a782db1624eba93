"""The gatherer of money entries: when it waits for a batch to fill (the window), how many it takes
(30 at most), that one customer's entries never share a batch, which effects may be batched at all,
and that a batch's key follows from its members alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

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
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _pace() -> batching.Pace:
    """A pace that just made a small batch: only ``at_least`` makes one now."""
    pace = batching.Pace(Ticks(), patience=0)
    pace.small_made(REALM)
    return pace


def _gather(
    db: Database,
    now: datetime,
    *,
    window: float = 0.8,
    sleep: Sleeps | None = None,
    pace: batching.Pace | None = None,
    at_least: int = 31,
) -> batching.Gathered:
    # at_least above what any test queues: every claimed entry comes back to go alone, which is
    # what these tests look at (composing is tested over the simulators).
    return batching.gather(
        _ctx(db, [now]),
        REALM,
        owner="w1",
        window=window,
        at_least=at_least,
        sleep=sleep or Sleeps(),
        pace=pace or _pace(),
    )


def test_one_due_entry_goes_at_once_without_waiting(db: Database) -> None:
    key = _fee(db, 1)
    sleeps = Sleeps()
    got = _gather(db, T0, sleep=sleeps)
    assert sleeps.calls == [] and [e.key for e in got.singles] == [key] and got.batches == ()


def test_several_due_wait_the_window_from_the_oldest(db: Database) -> None:
    _fee(db, 1, at=T0 - timedelta(seconds=0.3))
    _fee(db, 2)
    sleeps = Sleeps()
    got = _gather(db, T0, window=0.8, sleep=sleeps, pace=batching.Pace(Ticks()))
    assert sleeps.calls == [0.5]  # 0.8 s from the oldest's due time, 0.3 s of it gone already
    assert len(got.singles) == 2


def test_no_wait_once_the_window_has_passed_or_a_batch_is_full(db: Database) -> None:
    for n in range(3):
        _fee(db, n, at=T0 - timedelta(seconds=2))
    sleeps = Sleeps()
    _gather(db, T0, sleep=sleeps, pace=batching.Pace(Ticks()))
    assert sleeps.calls == []
    for n in range(10, 45):
        _fee(db, n)
    _gather(db, T0, sleep=sleeps, pace=batching.Pace(Ticks()))
    assert sleeps.calls == []


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


def test_while_a_batch_is_under_way_only_a_full_one_is_gathered(db: Database) -> None:
    with db.transaction() as s:
        effects.insert(
            s, key="qbo:entry_batch:c1:x", kind="qbo.entry_batch", company_id=REALM, payload={}, now=T0
        )
    for n in range(29):
        _fee(db, n)
    # They wait for it (its pass comes back for them); fewer than 13 would go alone at once.
    assert _gather(db, T0, at_least=batching.AT_LEAST) == batching.Gathered()
    _fee(db, 29)
    assert len(_gather(db, T0, at_least=batching.AT_LEAST).singles) == 30


def test_small_batches_are_spaced() -> None:
    ticks = Ticks()
    pace = batching.Pace(ticks)
    assert pace.small_ok(REALM)
    pace.small_made(REALM)
    assert not pace.small_ok(REALM) and pace.small_ok("c2")
    ticks.now += batching.SMALL_SPACING
    assert pace.small_ok(REALM)


def test_in_a_burst_only_full_batches_are_gathered(db: Database) -> None:
    with db.transaction() as s:
        for n in range(batching.BURST):
            key = f"qbo:entry_batch:c1:{n}"
            effects.insert(s, key=key, kind="qbo.entry_batch", company_id=REALM, payload={}, now=T0)
            row = effects.get(s, key)
            assert row is not None
            row.status = "done"
    for n in range(29):
        _fee(db, n)
    later = T0 + timedelta(seconds=30)
    assert _gather(db, later) == batching.Gathered()  # QBO's batch budget is what they wait for
    assert len(_gather(db, later + timedelta(seconds=31)).singles) == 29  # the burst slid out


def test_while_a_batch_is_under_way_a_few_go_alone_at_once(db: Database) -> None:
    with db.transaction() as s:
        effects.insert(
            s, key="qbo:entry_batch:c1:x", kind="qbo.entry_batch", company_id=REALM, payload={}, now=T0
        )
    for n in range(3):
        _fee(db, n)
    sleeps = Sleeps()
    got = _gather(db, T0, at_least=batching.AT_LEAST, sleep=sleeps, pace=batching.Pace(Ticks()))
    assert len(got.singles) == 3 and sleeps.calls == []
