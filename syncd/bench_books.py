"""``syncd bench --books``: 1,000 card payments with their fees booked by the real worker over both
simulators, counting the QBO write calls (single writes and batch calls) and 429s it took."""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from syncd.bench_loop import (
    TimedIntake,
    latency_figures,
    open_sessions,
    pay_sessions,
    wait_payable,
    wait_quiet,
)
from syncd.catalog import EffectKind
from syncd.catalog.payloads_batch import EntryBatch
from syncd.context import Context
from syncd.demo import start_demo
from syncd.stages.batching import IN_BATCH
from syncd.store.models import LINK_OF_INVOICE, Effect, InvoiceRow, PortalLink

# The entries the payments set off: their Payments, fees and the batches writing them.
ENTRY_KINDS = (EffectKind.QBO_PAYMENT, EffectKind.QBO_FEE, EffectKind.QBO_ENTRY_BATCH)
TARGET_WRITE_CALLS = 70  # per 1,000 payments with fees


def _entries_pending(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).where(Effect.kind.in_(list(ENTRY_KINDS)), Effect.status == "pending")
            )
            or 0
        )


def _wait_booked(ctx: Context, timeout: float) -> None:
    """Until every Payment, fee and batch is done (or ``timeout`` seconds passed)."""
    deadline = time.monotonic() + timeout
    while _entries_pending(ctx) and time.monotonic() < deadline:
        time.sleep(0.2)


def _intent_of(stripe: Any, session_id: str) -> str:
    found = [s.get("payment_intent") for s in stripe.objects("checkout.session") if s["id"] == session_id]
    return str(found[0]) if found else ""


def _wait_fee_booked(ctx: Context, intent_id: str, timeout: float) -> None:
    """Until the fee of ``intent_id`` is booked (or ``timeout`` seconds passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.db.transaction() as session:
            payloads = session.scalars(
                select(Effect.payload).where(Effect.kind == EffectKind.QBO_FEE, Effect.status == "done")
            )
            if any(p.get("payment_intent_id") == intent_id for p in payloads):
                return
        time.sleep(0.2)


def _last_effect(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return int(session.scalar(select(func.max(Effect.id))) or 0)


def _fees_done(ctx: Context, since: int) -> int:
    with ctx.db.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    Effect.kind == EffectKind.QBO_FEE, Effect.status == "done", Effect.id > since
                )
            )
            or 0
        )


def _batch_sizes(ctx: Context, since: int) -> list[tuple[int, int]]:
    """Each entry batch's size and how many times it was sent."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(Effect.payload, Effect.attempts).where(
                Effect.kind == EffectKind.QBO_ENTRY_BATCH, Effect.id > since
            )
        ).all()
        return [(len(EntryBatch.from_json(p).members), attempts) for p, attempts in rows]


def _alone(ctx: Context, since: int) -> dict[str, int]:
    """The Payments and fees written on their own, by kind (a batch member names its batch)."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(Effect.kind, Effect.payload).where(
                Effect.kind.in_([EffectKind.QBO_PAYMENT, EffectKind.QBO_FEE]),
                Effect.status == "done",
                Effect.id > since,
            )
        ).all()
    alone: dict[str, int] = {}
    for kind, payload in rows:
        if not payload.get(IN_BATCH):
            alone[kind] = alone.get(kind, 0) + 1
    return alone


def _spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """QBO calls by kind between two counts of the simulator."""
    kinds = ("write", "batch", "batch_write", "read", "throttled")
    return {kind: int(after.get(kind, 0)) - int(before.get(kind, 0)) for kind in kinds}


def payable_per_customer(ctx: Context, realm: str, count: int, per_customer: int) -> list[tuple[str, str]]:
    """Up to ``count`` payable invoices with links (id, currency), at most ``per_customer`` of
    each customer."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(InvoiceRow.qbo_id, InvoiceRow.customer_id, InvoiceRow.currency)
            .join(PortalLink, LINK_OF_INVOICE)
            .where(
                InvoiceRow.company_id == realm,
                InvoiceRow.status.in_(["open", "partial"]),
                InvoiceRow.balance > Decimal(0),
            )
            .order_by(InvoiceRow.qbo_id)
        ).all()
    taken: dict[str, int] = {}
    picked: list[tuple[str, str]] = []
    for invoice_id, customer, currency in rows:
        if taken.get(customer, 0) < per_customer and len(picked) < count:
            taken[customer] = taken.get(customer, 0) + 1
            picked.append((invoice_id, currency))
    return picked


def first_of_each_currency(picked: list[tuple[str, str]], payments: int) -> tuple[list[str], list[str]]:
    """One invoice per currency to warm up with (a company's first payment in a currency creates
    that currency's clearing account once in its life), and ``payments`` of the rest."""
    warm: dict[str, str] = {}
    rest: list[str] = []
    for invoice_id, currency in picked:
        if currency not in warm:
            warm[currency] = invoice_id
        elif len(rest) < payments:
            rest.append(invoice_id)
    return list(warm.values()), rest


def bench_books(
    payments: int = 1000, *, per_customer: int = 1, rate: float | None = None, timeout: float = 1200.0
) -> dict[str, Any]:
    """Pay ``payments`` invoices, at most ``per_customer`` of each customer (one customer's are
    booked one after another), all at once or ``rate`` per second, with the default
    ``[scheduler]`` settings, and count what booking them cost in QBO requests (after the
    company's first payment, whose one-time setup is reported on its own)."""
    timed = TimedIntake()
    with tempfile.TemporaryDirectory(prefix="syncd-bench-") as state:
        handle = start_demo(
            # The demo company has a customer per 10 invoices.
            port=0,
            invoices=max(40, payments * 3, -(-payments // per_customer) * 12),
            state_dir=Path(state),
            intervals={"batch_entries": True},
            intake=timed,
            # What this bench measures starts at the payments: no invoice emails or link
            # write-backs before them (``syncd bench --scale`` measures those).
            company={"first_sync": "link_only", "link_writeback": "off"},
        )
        try:
            ctx, realm = handle.ctx, handle.qbo.realm_id
            wait_payable(ctx, realm, payments, timeout=300)
            wait_quiet(ctx, timeout=900)
            picked = payable_per_customer(ctx, realm, payments + 50, per_customer)
            firsts, payable = first_of_each_currency(picked, payments)
            # A company's first payment creates what its books need once in its life (the Stripe
            # clearing and fee accounts, the Stripe vendor), and its first in each other currency
            # that currency's clearing account: paid and booked before the count.
            setup_before = handle.qbo.counts()
            warm = open_sessions(ctx, [(realm, invoice_id) for invoice_id in firsts])
            pay_sessions(ctx, handle.stripe, timed, warm, None, timeout)
            # Their fees are queued once their Payments are recorded: all are in before the count.
            for session_id in warm.values():
                _wait_fee_booked(ctx, _intent_of(handle.stripe, session_id), timeout)
            _wait_booked(ctx, timeout)
            setup = _spent(setup_before, handle.qbo.counts())
            sessions = open_sessions(ctx, [(realm, invoice_id) for invoice_id in payable])
            since = _last_effect(ctx)
            before = handle.qbo.counts()
            started = time.monotonic()
            latencies = pay_sessions(ctx, handle.stripe, timed, sessions, rate, timeout)
            _wait_booked(ctx, timeout)
            wall = time.monotonic() - started
            after = handle.qbo.counts()
            fees = _fees_done(ctx, since)
            sent = _batch_sizes(ctx, since)
            alone = _alone(ctx, since)
        finally:
            handle.stop()

    spent = _spent(before, after)
    # A batch call holding writes; QBO's re-pulls after a burst read in batch calls of queries too.
    writes, batches = spent["write"], spent["batch_write"]
    figures = latency_figures(sessions, latencies, rate)
    sizes = [size for size, _ in sent]
    return {
        "payments": figures["payments"],
        "most_per_customer": per_customer,
        "paid_per_second": figures["paid_per_second"],
        "payments_timed": figures["completed"],
        "fees_booked": fees,
        "qbo_write_calls": writes + batches,
        "qbo_single_writes": writes,
        "qbo_batch_calls": batches,
        "qbo_batch_calls_of_queries": spent["batch"] - batches,
        "entries_per_batch": round(sum(sizes) / len(sizes), 1) if sizes else None,
        "batches_under_30": sum(size < 30 for size in sizes),
        "batches_sent_again": sum(max(0, attempts - 1) for _, attempts in sent),
        "entries_alone": alone,
        "qbo_reads": spent["read"],
        "qbo_throttled_429": spent["throttled"],
        "first_payment_setup_calls": {kind: setup[kind] for kind in ("write", "batch_write", "read")},
        "first_payment_currencies": len(firsts),
        "p50_seconds": figures["p50_seconds"],
        "p95_seconds": figures["p95_seconds"],
        "max_seconds": figures["max_seconds"],
        "wall_seconds": round(wall, 1),
        "target_qbo_write_calls": round(TARGET_WRITE_CALLS * payments / 1000),
        "target_qbo_throttled_429": 0,
    }
