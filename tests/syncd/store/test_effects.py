"""The effect ledger's contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from syncd.catalog import Serial
from syncd.catalog.payloads import QboPayment
from syncd.catalog.payloads_email import InvoiceEmail, ReceiptEmail
from syncd.store import effects
from syncd.store.effects import LeaseLost
from syncd.store.engine import Database
from syncd.store.migrate import upgrade
from syncd.store.models import PaymentRow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _enqueue(db: Database, key: str, **kw: object) -> bool:
    with db.transaction() as s:
        return effects.insert(s, key=key, kind="k", company_id="c1", payload={"n": 1}, now=T0, **kw)  # type: ignore[arg-type]


def test_enqueue_is_idempotent_per_key(db: Database) -> None:
    assert _enqueue(db, "a") is True
    assert _enqueue(db, "a") is False
    with db.transaction() as s:
        assert effects.counts(s)["pending"] == 1


def test_enqueue_rolls_back_with_its_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as s:
        effects.insert(s, key="x", kind="k", company_id="c1", payload={}, now=T0)
        raise RuntimeError("the state change failed")
    with db.transaction() as s:
        assert effects.get(s, "x") is None


def test_claim_leases_and_expired_lease_is_reclaimed(db: Database) -> None:
    _enqueue(db, "a")
    first = effects.claim(db, owner="w1", now=T0, lease_seconds=30)
    assert [c.key for c in first] == ["a"]
    assert effects.claim(db, owner="w2", now=T0 + timedelta(seconds=10)) == []
    second = effects.claim(db, owner="w2", now=T0 + timedelta(seconds=31))
    assert [c.key for c in second] == ["a"] and second[0].attempts == 2
    # The first owner comes back late: its completion must not count.
    with pytest.raises(LeaseLost), db.transaction() as s:
        effects.complete(s, first[0], now=T0 + timedelta(seconds=40))
    with db.transaction() as s:
        effects.complete(s, second[0], now=T0 + timedelta(seconds=40), remote_id="r1")
    with db.transaction() as s:
        row = effects.get(s, "a")
        assert row is not None and row.status == "done" and row.remote_id == "r1"
    assert effects.claim(db, owner="w3", now=T0 + timedelta(hours=1)) == []


def test_not_before_and_retry_later(db: Database) -> None:
    _enqueue(db, "later", not_before=T0 + timedelta(minutes=5))
    assert effects.claim(db, owner="w", now=T0) == []
    (c,) = effects.claim(db, owner="w", now=T0 + timedelta(minutes=5))
    effects.retry_later(db, c, error="503", at=T0 + timedelta(minutes=10))
    assert effects.claim(db, owner="w", now=T0 + timedelta(minutes=9)) == []
    (again,) = effects.claim(db, owner="w", now=T0 + timedelta(minutes=10))
    assert again.attempts == 2


def test_fail_is_terminal_until_requeued(db: Database) -> None:
    _enqueue(db, "bad")
    (c,) = effects.claim(db, owner="w", now=T0)
    effects.fail(db, c, error="validation", now=T0)
    assert effects.claim(db, owner="w", now=T0 + timedelta(days=1)) == []
    with db.transaction() as s:
        assert effects.counts(s, "c1") == {"pending": 0, "done": 0, "failed": 1}
    assert effects.requeue_failed(db, company_id="c1", now=T0) == 1
    assert len(effects.claim(db, owner="w", now=T0)) == 1


def test_effects_waiting_for_a_setting_are_due_at_start(db: Database) -> None:
    _enqueue(db, "payout")
    _enqueue(db, "throttled")
    for c in effects.claim(db, owner="w", now=T0):
        error = "payout po_1 held: set company.accounts.banks.JPY to ..." if c.key == "payout" else "429"
        effects.retry_later(db, c, error=error, at=T0 + timedelta(hours=1))
    assert effects.due_awaiting_settings(db, now=T0 + timedelta(minutes=1)) == 1
    assert [c.key for c in effects.claim(db, owner="w", now=T0 + timedelta(minutes=1))] == ["payout"]


def test_release_gives_leases_back(db: Database) -> None:
    _enqueue(db, "a")
    effects.claim(db, owner="w1", now=T0)
    assert effects.release(db, "w1") == 1
    assert len(effects.claim(db, owner="w2", now=T0)) == 1


def test_claim_key_for_inline_work(db: Database) -> None:
    _enqueue(db, "inline")
    c = effects.claim_key(db, "inline", owner="portal", now=T0)
    assert c is not None
    assert effects.claim_key(db, "inline", owner="other", now=T0) is None
    assert effects.claim_key(db, "missing", owner="portal", now=T0) is None


def test_concurrent_workers_never_claim_the_same_effect(db: Database) -> None:
    for i in range(60):
        _enqueue(db, f"e{i}")
    got: list[str] = []
    lock = threading.Lock()

    def work(owner: str) -> None:
        while True:
            batch = effects.claim(db, owner=owner, now=T0, limit=5)
            if not batch:
                return
            with lock:
                got.extend(c.key for c in batch)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(f"e{i}" for i in range(60))


def test_money_effects_are_claimed_before_notices(db: Database) -> None:
    with db.transaction() as s:
        for i in range(5):
            effects.enqueue(s, InvoiceEmail(str(i)), company_id="c1", now=T0)
        effects.enqueue(s, QboPayment("pay:1", ref="pi_1", customer_id="7"), company_id="c1", now=T0)
        effects.enqueue(s, ReceiptEmail("pay:1", ref="pi_1"), company_id="c1", now=T0)
    claimed = effects.claim(db, owner="w", now=T0, limit=3)
    assert [c.key for c in claimed] == ["qbo:payment:pi_1", "email:receipt:pi_1", "email:invoice:c1:0"]


def _grouped(db: Database, key: str, group: str | None, at: datetime = T0) -> None:
    with db.transaction() as s:
        effects.insert(
            s, key=key, kind="qbo.payment", company_id="c1", payload={}, now=at, serial_group=group
        )


def test_one_serial_group_is_claimed_one_effect_at_a_time(db: Database) -> None:
    group = Serial.MONEY.group("c1", "cust-1")
    for key in ("pay-1", "pay-2", "pay-3"):
        _grouped(db, key, group)
    _grouped(db, "other-customer", Serial.MONEY.group("c1", "cust-2"))
    _grouped(db, "ungrouped", None)
    first = effects.claim(db, owner="w1", now=T0)
    assert sorted(c.key for c in first) == ["other-customer", "pay-1", "ungrouped"]
    # pay-1 is leased: another worker gets nothing of its group, now or after pay-1's release.
    assert effects.claim(db, owner="w2", now=T0 + timedelta(seconds=1)) == []
    pay1 = next(c for c in first if c.key == "pay-1")
    with db.transaction() as s:
        effects.complete(s, pay1, now=T0)
    (second,) = effects.claim(db, owner="w2", now=T0 + timedelta(seconds=2))
    assert second.key == "pay-2"
    # A lease that lapsed (its owner died) is taken over before the next of the group starts.
    again = effects.claim(db, owner="w3", now=T0 + timedelta(minutes=5))
    mine = [c for c in again if c.key.startswith("pay-")]
    assert [c.key for c in mine] == ["pay-2"] and mine[0].attempts == 2


def test_an_earlier_effect_backing_off_lets_the_next_of_its_group_run(db: Database) -> None:
    group = Serial.MONEY.group("c1", "cust-1")
    _grouped(db, "pay-1", group)
    _grouped(db, "pay-2", group)
    (first,) = effects.claim(db, owner="w", now=T0)
    effects.retry_later(db, first, error="QBO 503", at=T0 + timedelta(minutes=10))
    (second,) = effects.claim(db, owner="w", now=T0 + timedelta(seconds=1), lease_seconds=3600)
    assert second.key == "pay-2"
    # ... and pay-1, due again, waits while pay-2 runs.
    assert effects.claim(db, owner="w", now=T0 + timedelta(minutes=10)) == []


def test_claim_key_respects_the_serial_group(db: Database) -> None:
    group = Serial.MONEY.group("c1", "cust-1")
    _grouped(db, "pay-1", group)
    _grouped(db, "pay-2", group)
    assert effects.claim_key(db, "pay-2", owner="portal", now=T0) is None
    assert effects.claim_key(db, "pay-1", owner="portal", now=T0) is not None
    assert effects.claim_key(db, "pay-2", owner="portal", now=T0) is None


def test_concurrent_workers_never_run_two_effects_of_one_group_at_once(db: Database) -> None:
    groups = [Serial.MONEY.group("c1", f"cust-{g}") for g in range(4)]
    for i in range(24):
        _grouped(db, f"e{i}", groups[i % 4], T0 + timedelta(milliseconds=i))
    for i in range(6):
        _grouped(db, f"free{i}", None)
    running: dict[str | None, int] = {}
    overlaps: list[str] = []
    done: list[str] = []
    lock = threading.Lock()
    group_of = {f"e{i}": groups[i % 4] for i in range(24)}

    def work(owner: str) -> None:
        idle = 0
        while idle < 20:
            batch = effects.claim(db, owner=owner, now=T0 + timedelta(seconds=1), limit=3)
            if not batch:
                idle += 1
                time.sleep(0.01)
                continue
            idle = 0
            for c in batch:
                group = group_of.get(c.key)
                with lock:
                    running[group] = running.get(group, 0) + 1
                    if group is not None and running[group] > 1:
                        overlaps.append(c.key)
                time.sleep(0.005)
                with lock:
                    running[group] -= 1
                with db.transaction() as s:
                    effects.complete(s, c, now=T0)
                with lock:
                    done.append(c.key)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not overlaps
    assert sorted(done) == sorted([*group_of, *(f"free{i}" for i in range(6))])
    # Within a group, effects ran in the order they were queued.
    for group in groups:
        mine = [k for k in done if group_of.get(k) == group]
        assert mine == sorted(mine, key=lambda k: int(k[1:]))


def test_a_held_effect_stays_pending_is_listed_and_requeue_makes_it_due(db: Database) -> None:
    _grouped(db, "pay-1", None)
    (c,) = effects.claim(db, owner="w", now=T0)
    assert effects.hold(db, c, error="QBO 2500 customer deleted", at=T0 + timedelta(hours=1), now=T0)
    with db.transaction() as s:
        assert [e.key for e in effects.held(s, "c1")] == ["pay-1"]
        assert effects.counts(s, "c1") == {"pending": 1, "done": 0, "failed": 0}
    assert effects.claim(db, owner="w", now=T0 + timedelta(minutes=1)) == []
    assert effects.requeue_failed(db, company_id="c1", now=T0 + timedelta(minutes=1)) == 1
    (again,) = effects.claim(db, owner="w", now=T0 + timedelta(minutes=1))
    assert not effects.hold(db, again, error="still", at=T0 + timedelta(hours=2), now=T0)  # once
    (third,) = effects.claim(db, owner="w", now=T0 + timedelta(hours=2))
    with db.transaction() as s:
        effects.complete(s, third, now=T0 + timedelta(hours=2))
    with db.transaction() as s:
        assert effects.held(s) == []


def test_the_upgrade_puts_queued_payments_in_their_customers_group(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0001")
    with db.transaction() as s:
        s.add(
            PaymentRow(
                key="pay:1",
                company_id="c1",
                customer_id="7",
                invoice_ids=["1"],
                amount=Decimal(1),
                currency="USD",
                status="succeeded",
                created_at=T0,
                updated_at=T0,
            )
        )
        # The effects table as 0001 made it (the model has moved on).
        s.execute(
            text(
                "INSERT INTO effects (key, kind, priority, company_id, payload, status, attempts, "
                "next_attempt_at, created_at) VALUES ('qbo:payment:pi_1', 'qbo.payment', 0, 'c1', "
                ":payload, 'pending', 0, :t, :t)"
            ),
            {"t": T0.isoformat(), "payload": '{"payment_key": "pay:1"}'},
        )
    upgrade(db)
    with db.transaction() as s:
        row = effects.get(s, "qbo:payment:pi_1")
        assert row is not None and row.serial_group == Serial.MONEY.group("c1", "7")
    db.dispose()
