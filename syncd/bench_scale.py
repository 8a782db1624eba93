"""``syncd bench --scale``: publishing with the link write-back, a 100,000-invoice first pull, and
payment latency during a first sync — the figures a big company's first day depends on."""

from __future__ import annotations

import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import func, select

from syncd.bench_loop import (
    SimulatorProcess,
    bench_payments,
    bench_pull,
    current_rss_mb,
    peak_rss_mb,
    simulated_context,
)
from syncd.catalog import EffectKind
from syncd.context import Context
from syncd.stages.publish import publish
from syncd.stages.pull import pull
from syncd.store.models import Effect
from syncd.worker import run_effects

# The first pull the big one's cost per 1,000 invoices is compared with.
LINEAR_BASE = 10_000


def _pending_links(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    Effect.kind == EffectKind.QBO_INVOICE_LINKS, Effect.status == "pending"
                )
            )
            or 0
        )


def bench_writeback(invoices: int, *, timeout: float = 1800.0) -> dict[str, Any]:
    """First pull + publish WITH the link written back on every payable invoice, until the last
    batch is written; QBO requests by kind and the 429s the connector saw."""
    sim = SimulatorProcess(invoices)
    try:
        with TemporaryDirectory(prefix="syncd-bench-") as state:
            ctx, realm = simulated_context(Path(state), sim.info, "memo")
            qbo = ctx.qbo(realm)
            started = time.perf_counter()
            pull(ctx, realm)
            published = publish(ctx, realm)
            pulled = qbo.counts()
            batches = _pending_links(ctx)
            deadline = time.monotonic() + timeout
            while _pending_links(ctx) and time.monotonic() < deadline:
                if not run_effects(ctx, owner="bench", kinds=[EffectKind.QBO_INVOICE_LINKS], limit=20):
                    time.sleep(0.2)  # the next batch is paced a little later
            done = time.perf_counter()
            counts = qbo.counts()
            left = _pending_links(ctx)
            ctx.db.dispose()
    finally:
        sim.stop()
    return {
        "invoices": invoices,
        "links_published": published,
        "link_batches": batches,
        "links_left_unwritten": left,
        "reads": counts.reads,
        "writes": counts.writes,
        "batch_calls_pull": pulled.batches,
        "batch_calls_writeback": counts.batches - pulled.batches,
        "reads_during_writeback": counts.reads - pulled.reads,
        "throttled_429": counts.throttled,
        "seconds": round(done - started, 1),
    }


def bench_first_pull(invoices: int) -> dict[str, Any]:
    """A first pull + publish of a big company: cost per 1,000 invoices and peak memory."""
    result = bench_pull(invoices)
    per = 1000 / max(1, int(result["invoices"]))
    total = float(result["pull_seconds"]) + float(result["publish_seconds"])
    return {
        **result,
        "seconds_per_1000": round(total * per, 3),
        "qbo_requests_per_1000": round(int(result["qbo_requests"]) * per, 3),
    }


def linearity(small: dict[str, Any], big: dict[str, Any]) -> dict[str, Any]:
    """How the cost per 1,000 invoices of the ``big`` first pull + publish compares with the
    ``small`` one's (target: within 1.5x, i.e. linear in the number of invoices)."""
    small_cost, big_cost = float(small["seconds_per_1000"]), float(big["seconds_per_1000"])
    return {
        "invoices_small": small["invoices"],
        "invoices_big": big["invoices"],
        "seconds_per_1000_small": small_cost,
        "seconds_per_1000_big": big_cost,
        "per_1000_ratio": round(big_cost / small_cost, 2) if small_cost > 0 else None,
        "target_ratio_at_most": 1.5,
    }


def run_scale(*, invoices: int, pull_invoices: int, payments: int, rate: float) -> dict[str, Any]:
    # The small pull first: peak RSS is a high-water mark, so the big one's stands for itself.
    small = bench_first_pull(min(LINEAR_BASE, pull_invoices))
    results: dict[str, Any] = {"first_pull": bench_first_pull(pull_invoices)}
    results["first_pull"]["peak_rss_mb_process"] = round(peak_rss_mb(), 1)
    results["first_pull"]["rss_now_mb"] = round(current_rss_mb(), 1)
    results["first_pull"]["target_peak_rss_mb_below"] = 250
    results["first_pull_linearity"] = linearity(small, results["first_pull"])
    results["writeback"] = bench_writeback(invoices)
    results["payments_during_first_sync"] = bench_payments(
        payments, rate=rate, invoices=invoices, settle=False, timeout=600
    )
    return results
