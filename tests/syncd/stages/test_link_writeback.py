"""Link write-back: 30 invoices per batch call from the pulled SyncTokens, no read, paced, replayable."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loop_harness import Loop, running_loop
from sqlalchemy import select

from syncd.catalog.payloads import InvoiceLinks
from syncd.stages import link_writeback
from syncd.stages.cycle import run_cycle
from syncd.store import effects
from syncd.store.models import Effect, InvoiceRow
from syncd.worker import run_effects


class Shifted:
    """Real time plus a jump the test controls (to reach batches paced into the future)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _link_effects(loop: Loop) -> list[Effect]:
    with loop.ctx.db.transaction() as s:
        rows = list(
            s.scalars(select(Effect).where(Effect.kind.like("qbo.invoice_link%")).order_by(Effect.id))
        )
        s.expunge_all()
    return rows


def test_publish_queues_30_per_batch_and_the_worker_writes_them_without_reads(tmp_path: Path) -> None:
    clock = Shifted()
    with running_loop(tmp_path, invoices=200, clock=clock) as loop:
        run_cycle(loop.ctx, loop.realm)
        queued = _link_effects(loop)
        with loop.ctx.db.transaction() as s:
            payable = {
                row.qbo_id: row.sync_token
                for row in s.scalars(select(InvoiceRow).where(InvoiceRow.status.in_(["open", "partial"])))
            }
        assert len(payable) > 60
        assert {e.kind for e in queued} == {"qbo.invoice_links"}
        sizes = [len(e.payload["invoices"]) for e in queued]
        assert sum(sizes) == len(payable) and max(sizes) == 30 and len(queued) == -(-len(payable) // 30)
        for effect in queued:
            entries = effect.payload["invoices"]
            ids = [str(entry["invoice_id"]) for entry in entries]
            assert effect.key == InvoiceLinks.key_of(loop.realm, ids)
            assert all(entry["sync_token"] == payable[entry["invoice_id"]] for entry in entries)
        # Paced: never more than the bulk share of QBO's 40 batch calls a minute.
        due = sorted(e.next_attempt_at for e in queued)
        assert all(b - a >= link_writeback.SPACING for a, b in itertools.pairwise(due))

        before = loop.qbo.counts()
        clock.offset = timedelta(minutes=30)
        while run_effects(loop.ctx, owner="test", kinds=["qbo.invoice_links"]):
            pass
        after = loop.qbo.counts()
        assert after["read"] - before["read"] == 0
        assert after["batch"] - before["batch"] == len(queued)
        assert after["write"] - before["write"] == 0
        for invoice_id in payable:
            memo = loop.qbo.entity("Invoice", invoice_id)["CustomerMemo"]["value"]
            assert loop.ctx.links.url(loop.realm, invoice_id) in memo
        with loop.ctx.db.transaction() as s:
            for invoice_id in payable:
                row = s.get(InvoiceRow, (loop.realm, invoice_id))
                assert row is not None
                assert row.sync_token == loop.qbo.entity("Invoice", invoice_id)["SyncToken"]


def test_a_retried_batch_is_the_same_call_and_a_stale_invoice_is_reread_alone(tmp_path: Path) -> None:
    clock = Shifted()
    with running_loop(tmp_path, invoices=60, clock=clock) as loop:
        run_cycle(loop.ctx, loop.realm)
        first = _link_effects(loop)[0]
        ids = [str(entry["invoice_id"]) for entry in first.payload["invoices"]]
        loop.qbo.update_invoice(ids[1], PrivateNote="edited after the pull")  # its SyncToken moves on
        claimed = effects.claim_key(loop.ctx.db, first.key, owner="crashing", now=clock())
        assert claimed is not None
        before = loop.qbo.counts()
        link_writeback.write_links(loop.ctx, claimed)  # sent, then the process dies before recording
        sent = loop.qbo.counts()
        assert (sent["batch"] - before["batch"], sent["read"] - before["read"]) == (1, 1)
        tokens = {i: loop.qbo.entity("Invoice", i)["SyncToken"] for i in ids}

        clock.offset = timedelta(minutes=5)  # the lease runs out; another worker takes the effect
        assert run_effects(loop.ctx, owner="test", kinds=["qbo.invoice_links"], limit=1) == 1
        with loop.ctx.db.transaction() as s:
            again = effects.get(s, first.key)
            assert again is not None and again.status == "done"
            assert again.payload == first.payload  # the composition never changed
        assert {i: loop.qbo.entity("Invoice", i)["SyncToken"] for i in ids} == tokens
        memo = loop.qbo.entity("Invoice", ids[1])
        assert memo is not None and memo["PrivateNote"] == "edited after the pull"
        assert loop.ctx.links.url(loop.realm, ids[1]) in memo["CustomerMemo"]["value"]
