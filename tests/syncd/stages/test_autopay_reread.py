"""The due day's re-read of invoices in batches: one QBO query serves the company's next charges,
each answer once; an answer older than FRESH_SECONDS, or older than a change the mirror has seen
since, is not used: that invoice is read again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from fakes.context import fakes_context
from fakes.quickbooks import FakeQuickBooks

from syncd.context import Context
from syncd.stages.autopay_reread import BATCH, FRESH_SECONDS, Rereads
from syncd.store.engine import Database

AT = datetime(2026, 5, 4, 15, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _setup(sqlite_db: Database, tmp_path: Path, n: int) -> tuple[Context, FakeQuickBooks, list[str]]:
    qbo = FakeQuickBooks("r1", clock=lambda: AT)
    customer = qbo.add_customer("Acme Ltd", "ap@acme.example")
    ids = [qbo.add_invoice(customer, Decimal("10.00") + k).qbo_id for k in range(n)]
    ctx = fakes_context(sqlite_db, tmp_path, qbo, at=AT)
    return ctx, qbo, ids


def test_one_query_serves_the_batch_each_answer_once(sqlite_db: Database, tmp_path: Path) -> None:
    ctx, qbo, ids = _setup(sqlite_db, tmp_path, BATCH + 5)
    rereads = Rereads(monotonic=Ticks())
    got = [rereads.invoice(ctx, "r1", i, others=lambda: ids, mirrored_at=None) for i in ids[:BATCH]]
    assert [g.qbo_id for g in got if g is not None] == ids[:BATCH]
    assert qbo.counts().reads == 1  # the first read took BATCH invoices
    # Used once: asked again, the invoice is read again (a replay never reuses an answer).
    assert rereads.invoice(ctx, "r1", ids[0], others=list, mirrored_at=None) is not None
    assert qbo.counts().reads == 2


def test_a_stale_answer_or_one_the_mirror_outdated_is_read_again(sqlite_db: Database, tmp_path: Path) -> None:
    ctx, qbo, ids = _setup(sqlite_db, tmp_path, 3)
    ticks = Ticks()
    rereads = Rereads(monotonic=ticks)
    rereads.invoice(ctx, "r1", ids[0], others=lambda: ids, mirrored_at=None)
    assert qbo.counts().reads == 1
    # The bookkeeper paid invoice 2 in QBO; the mirror saw it after the batch read.
    qbo.invoices[ids[1]] = dataclasses.replace(qbo.invoices[ids[1]], balance=Decimal(0))
    fresh = rereads.invoice(ctx, "r1", ids[1], others=list, mirrored_at=AT + timedelta(seconds=1))
    assert fresh is not None and fresh.balance == 0 and qbo.counts().reads == 2
    # Invoice 3's answer waited too long: read again.
    ticks.now += FRESH_SECONDS + 1
    rereads.invoice(ctx, "r1", ids[2], others=list, mirrored_at=None)
    assert qbo.counts().reads == 3
