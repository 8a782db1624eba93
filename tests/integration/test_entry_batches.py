"""Money entries in QBO batch calls over both simulators: Payments and their fees booked through
batches exactly once, also when the process dies after persisting a batch (before or after its call)
and before recording QBO's answers; what a batch refuses goes alone; the audit stays clean."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from books_loop import assert_clean, books_loop, open_invoices, payment, qbo
from loop_harness import Loop
from sqlalchemy import select

from syncd.catalog.payloads_batch import EntryBatch
from syncd.stages import batch_writes, batching
from syncd.stages.collect import open_attempt
from syncd.stages.events import ingest
from syncd.store import effects
from syncd.store.models import Effect, InvoiceRow
from syncd.worker import run_effects


def _one_per_customer(loop: Loop, count: int) -> list[InvoiceRow]:
    seen: set[str] = set()
    picked = []
    for inv in open_invoices(loop):
        if inv.customer_id not in seen:
            seen.add(inv.customer_id)
            picked.append(inv)
    assert len(picked) >= count, f"only {len(picked)} customers with open USD invoices"
    return picked[:count]


def _paid_not_booked(loop: Loop, invoices: list[InvoiceRow]) -> list[str]:
    """Each invoice paid by card at Stripe, its QBO Payment queued and not yet written."""
    now = loop.ctx.clock()
    keys = [f"pay:{loop.realm}:{inv.qbo_id}:{now.timestamp()}" for inv in invoices]
    with loop.ctx.db.transaction() as s:
        for key, inv in zip(keys, invoices, strict=True):
            open_attempt(s, key=key, invoices=[inv], amount=inv.balance, now=now)
    while run_effects(loop.ctx, owner="test", kinds=["stripe.checkout"], limit=200):
        pass
    for key in keys:
        session_id = payment(loop, key).checkout_session_id
        assert session_id is not None
        loop.stripe.pay_checkout(session_id, "card_success")
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    with loop.ctx.db.transaction() as s:
        pending = s.scalars(
            select(Effect.key).where(Effect.kind == "qbo.payment", Effect.status == "pending")
        )
        assert len(list(pending)) == len(invoices)
    return keys


def _batch_rows(loop: Loop) -> list[Effect]:
    with loop.ctx.db.transaction() as s:
        rows = list(s.scalars(select(Effect).where(Effect.kind == "qbo.entry_batch").order_by(Effect.id)))
        for row in rows:
            s.expunge(row)
        return rows


def _restart_later(loop: Loop) -> None:
    """The dead process's leases run out (they are 60 s)."""
    loop.stripe.clock.advance(timedelta(seconds=90))


def _ours(loop: Loop) -> list[dict[str, object]]:
    """The QBO Payments syncd wrote for Stripe charges (the seed has checks of its own)."""
    return [p for p in qbo(loop, "Payment") if "Stripe payment" in str(p.get("PrivateNote", ""))]


def _booked_once(loop: Loop, keys: list[str]) -> None:
    for key in keys:
        row = payment(loop, key)
        assert row.qbo_payment_id, key
        intent = row.payment_intent_id
        assert intent is not None
        mine = [p for p in qbo(loop, "Payment") if intent in str(p.get("PrivateNote", ""))]
        assert len(mine) == 1, (key, mine)
        fees = [p for p in qbo(loop, "Purchase") if intent in str(p.get("PrivateNote", ""))]
        assert len(fees) == 1, (key, fees)
    assert len(_ours(loop)) == len(keys)


def test_a_batch_persisted_then_killed_before_its_answers_is_resent_and_books_each_once(
    tmp_path: Path,
) -> None:
    with books_loop(tmp_path, invoices=80) as loop:
        invoices = _one_per_customer(loop, 4)
        keys = _paid_not_booked(loop, invoices)
        gathered = batching.gather(
            loop.ctx, loop.realm, owner="dies", window=0.0, at_least=2, pace=batching.Pace()
        )
        (batch_key,) = gathered.batches
        (row,) = _batch_rows(loop)
        batch = EntryBatch.of(row)
        assert row.key == batch_key == batch.key(loop.realm)
        assert sorted(m.key for m in batch.members) == sorted(
            f"qbo:payment:{payment(loop, k).payment_intent_id}" for k in keys
        )
        with loop.ctx.db.transaction() as s:
            for member in batch.members:
                pinned = effects.get(s, member.key)
                assert pinned is not None and pinned.lease_owner == batching.pin_owner(batch_key)
                assert pinned.payload[batching.IN_BATCH] == batch_key
        # The process sends the batch and dies before recording QBO's answers.
        claimed = effects.claim_key(loop.ctx.db, batch_key, owner="dies", now=loop.ctx.clock())
        assert claimed is not None
        batch_writes.write_entry_batch(loop.ctx, claimed)  # its Done is never applied
        assert len(_ours(loop)) == len(keys)
        # Meanwhile nothing may write a member alone: a restarted worker finds only the batch.
        _restart_later(loop)
        calls_before = loop.qbo.counts().get("batch", 0)
        while batching.run_effects_batched(loop.ctx, owner="again", realm_id=loop.realm, limit=200):
            pass
        assert loop.qbo.counts().get("batch", 0) > calls_before
        (row,) = [r for r in _batch_rows(loop) if r.key == batch_key]
        assert row.status == "done" and row.remote_id == f"{len(keys)}/{len(keys)} entries"
        while run_effects(loop.ctx, owner="fees", limit=200):
            pass
        _booked_once(loop, keys)
        assert len(_ours(loop)) == len(keys)  # the resent batch wrote nothing new
        assert_clean(loop)


def test_killed_between_persisting_and_sending_sends_the_same_batch(tmp_path: Path) -> None:
    with books_loop(tmp_path, invoices=80) as loop:
        keys = _paid_not_booked(loop, _one_per_customer(loop, 3))
        (batch_key,) = batching.gather(
            loop.ctx, loop.realm, owner="dies", window=0.0, at_least=2, pace=batching.Pace()
        ).batches
        _restart_later(loop)
        while batching.run_effects_batched(loop.ctx, owner="again", realm_id=loop.realm, limit=200):
            pass
        assert next(r.key for r in _batch_rows(loop)) == batch_key
        assert all(r.status == "done" for r in _batch_rows(loop))
        while run_effects(loop.ctx, owner="fees", limit=200):
            pass
        _booked_once(loop, keys)
        assert_clean(loop)


def test_an_entry_the_batch_refused_goes_alone_and_the_rest_are_booked(tmp_path: Path) -> None:
    with books_loop(tmp_path, invoices=80) as loop:
        invoices = _one_per_customer(loop, 3)
        keys = _paid_not_booked(loop, invoices)
        (batch_key,) = batching.gather(
            loop.ctx, loop.realm, owner="w", window=0.0, at_least=2, pace=batching.Pace()
        ).batches
        # Paid by check in QBO after the batch was composed: QBO refuses that Payment's line.
        victim = invoices[0]
        loop.qbo.record_offline_payment(victim.qbo_id, victim.balance)
        while batching.run_effects_batched(loop.ctx, owner="w", realm_id=loop.realm, limit=200):
            pass
        (row,) = [r for r in _batch_rows(loop) if r.key == batch_key]
        assert row.status == "done" and row.remote_id == f"{len(keys) - 1}/{len(keys)} entries"
        intent = payment(loop, keys[0]).payment_intent_id
        with loop.ctx.db.transaction() as s:
            alone = effects.get(s, f"qbo:payment:{intent}")
            assert alone is not None and alone.status == "done"
            assert alone.payload[batching.SINGLE] is True and alone.payload["refused"] == 1
        while run_effects(loop.ctx, owner="fees", limit=200):
            pass
        _booked_once(loop, keys)
        # Written alone as customer credit: nothing was open on its invoice any more.
        credit = loop.qbo.entity("Payment", payment(loop, keys[0]).qbo_payment_id or "")
        assert credit is not None and Decimal(str(credit["UnappliedAmt"])) == victim.balance
        assert_clean(loop)
