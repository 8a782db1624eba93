"""``syncd bench --many N``: one daemon running N simulated companies at once (their first syncs,
link write-backs and pulls), payment latency across all of them, and the daemon's peak memory."""

from __future__ import annotations

import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from connectors.email.sink import SmtpSink
from connectors.serving import ThreadedServer
from connectors.stripe.simulator import StripeSimulator
from syncd.bench_loop import SimulatorProcess, TimedIntake, current_rss_mb, latency_figures, peak_rss_mb
from syncd.bench_payer import (
    activity,
    arrival_rate,
    booked,
    first_arrivals,
    load_average,
    open_payable,
    open_sessions,
    pay_at_rate,
    wait_ready,
)
from syncd.bench_stages import HandlerClock, breakdown
from syncd.bootstrap import build_context
from syncd.config import parse
from syncd.context import token_store
from syncd.daemon import Service
from syncd.demo import LateApp
from syncd.ports.quickbooks import QboTokens
from syncd.secrets import SecretBox


def _settings(
    url: str,
    port: int,
    state: Path,
    qbo: dict[str, Any],
    stripe: StripeSimulator,
    secret: str,
    sink: SmtpSink,
) -> dict[str, Any]:
    return {
        "secret_key": SecretBox.generate(),
        "log_level": "error",
        "database": {"url": f"sqlite:///{state}/syncd.db"},
        "web": {"public_url": url, "host": "127.0.0.1", "port": port},
        "quickbooks": {
            "environment": qbo["discovery_url"],
            "api_base_url": qbo["api_base_url"],
            "client_id": qbo["client_id"],
            "client_secret": qbo["client_secret"],
            "webhook_verifier_token": qbo["webhook_verifier_token"],
        },
        "stripe": {"api_key": stripe.api_key, "webhook_secret": secret, "api_base": stripe.url},
        "smtp": {"host": sink.host, "port": sink.port, "security": "none", "from": "billing@bench.example"},
        # Every company with the defaults a real installation has (link write-back in the memo).
        "company": [{"realm_id": c["realm_id"]} for c in qbo["companies"]],
    }


def bench_many(
    companies: int,
    *,
    invoices: int = 500,
    payments: int = 200,
    rate: float = 20.0,
    timeout: float = 600.0,
    start_share: float = 0.5,
) -> dict[str, Any]:
    """Start one daemon with ``companies`` companies of ``invoices`` invoices each (the QBO
    simulator in its own process); once ``start_share`` of them have payable invoices, pay
    ``payments`` invoices spread over those at ``rate`` per second while the rest are still in
    their first syncs and the payable ones in their link write-backs."""
    timed = TimedIntake()
    late = LateApp()
    server = ThreadedServer(late, "127.0.0.1", 0)
    webhooks = f"{server.url}/webhooks/quickbooks"
    sim = SimulatorProcess(invoices, "--companies", str(max(2, companies)), "--webhook-url", webhooks)
    stops: list[Any] = [sim.stop, server.stop]
    try:
        info = dict(sim.info)
        info["companies"] = info["companies"][:companies]
        sink = SmtpSink().start()
        stops.append(sink.stop)
        # Webhooks delivered side by side, as Stripe does: one delivery thread paid ~1.3 payments
        # a second under load, which measured the simulator rather than syncd.
        stripe = StripeSimulator(webhook_workers=16).start()
        stops.append(stripe.stop)
        secret = "whsec_" + secrets.token_hex(24)
        stripe.add_webhook_endpoint(f"{server.url}/webhooks/stripe", secret)
        with tempfile.TemporaryDirectory(prefix="syncd-bench-") as state:
            settings = parse(_settings(server.url, server.port, Path(state), info, stripe, secret, sink))
            ctx = build_context(settings, require_stripe=True)
            service = Service(settings, ctx=ctx, mailbox=sink.mailbox, intake=timed)
            now = ctx.clock()
            for company in info["companies"]:
                tokens = QboTokens(
                    str(company["access_token"]),
                    str(company["refresh_token"]),
                    now + timedelta(hours=1),
                    None,
                )
                token_store(ctx).save(str(company["realm_id"]), tokens)
            rss_before = current_rss_mb()
            late.app = service.app
            server.start()
            started = time.perf_counter()
            service.start_jobs()
            stops.append(service.stop_jobs)
            realms = [str(c["realm_id"]) for c in info["companies"]]
            # Payments start once ``start_share`` of the companies can be paid: the others are
            # still in their first syncs, the payable ones in their link write-backs.
            need = max(1, min(len(realms), round(len(realms) * start_share)))
            ready = wait_ready(ctx, realms, 1, need, timeout)
            per = -(-payments // len(ready))  # ceiling: every payable company gets its share
            payable = open_payable(ctx, ready, per)
            waited = time.perf_counter() - started
            # Round-robin over the companies, so all of them have payments in flight at once.
            targets = [(r, payable[r][i]) for i in range(per) for r in ready if i < len(payable[r])]
            sessions = open_sessions(ctx, targets[:payments])
            busy_before, load_before = activity(ctx, realms, 1), load_average()
            clock = HandlerClock()
            with clock.installed():
                paying = pay_at_rate(stripe, list(sessions.values()), rate)
                created = booked(ctx, set(sessions.values()), timeout)
            busy_after, load_after = activity(ctx, realms, 1), load_average()
            arrivals = first_arrivals(stripe, sessions.values(), timed.arrivals)
            stored = first_arrivals(stripe, sessions.values(), timed.stored)
            latencies = [
                max(0.0, created[sid] - arrivals[sid])
                for sid in sessions.values()
                if sid in created and sid in arrivals
            ]
            figures = latency_figures(sessions, latencies, rate)
            stages = breakdown(ctx, set(sessions.values()), arrivals, stored, clock)
            # Every company's first sync done too (the payments went before them, not instead).
            wait_ready(ctx, realms, 1, len(realms), timeout)
            synced = time.perf_counter() - started
            rss_after = current_rss_mb()
            # 429s the connector saw from the simulator, every company's (target: none).
            throttled = sum(ctx.qbo(realm).counts().throttled for realm in realms)
            # No more QBO webhooks once the database is gone with the state directory.
            sim.stop()
            stops.remove(sim.stop)
            service.stop_jobs()
            stops.remove(service.stop_jobs)
            ctx.db.dispose()
    finally:
        for stop in reversed(stops):
            stop()
    return {
        "companies": len(realms),
        "invoices_each": invoices,
        "payments_began_after_seconds": round(waited, 1),
        "companies_paid": len(ready),
        "all_payable_after_seconds": round(synced, 1),
        **figures,
        "arrived_per_second": arrival_rate(arrivals.values()),
        "paying_seconds": round(paying, 1),
        "while_paying": {"before": busy_before, "after": busy_after},
        "load_average_1min": [load_before, load_after],
        "stages_seconds": stages,
        "qbo_throttled_429": throttled,
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(rss_after, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        # Issue 14's targets for this run: p95 and peak memory below these, no 429.
        "target_p95_seconds_below": 2.0,
        "target_peak_rss_mb_below": 400,
    }
