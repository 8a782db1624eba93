"""``syncd bench --autopay N``: a due day of N enrolled customers over both simulators on loopback
(each simulator in its own process, Stripe enforcing its published rate limits), on SQLite in a temporary
directory. First the notices: the company cycle's autopay step plans and queues one per charge,
then the effect worker renders each for a mailer that keeps nothing (target: 10,000 in < 60 s).
Then, the clock moved to the due day, the same step starts every charge and the effect worker
performs them as the daemon's worker does (the invoice re-read from QBO, the off-session charge
under its idempotency key, the payment recorded): target, every charge started within 10 minutes
with flat memory (< 300 MB)."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from connectors.stripe.simulator import StripeSimulator
from syncd import config
from syncd.bench_loop import SimulatorProcess, current_rss_mb, peak_rss_mb
from syncd.bootstrap import build_context
from syncd.catalog import EffectKind
from syncd.companies import ensure_companies
from syncd.context import Context, token_store
from syncd.domain.autopay import ChargeStatus
from syncd.ports.email import EmailMessage
from syncd.ports.quickbooks import QboTokens
from syncd.secrets import SecretBox
from syncd.stages import autopay
from syncd.stages.pull import pull
from syncd.store import migrate
from syncd.store.models import (
    AutopayCharge,
    AutopayEnrollment,
    CustomerRow,
    Effect,
    InvoiceRow,
    SavedMethodRow,
)
from syncd.worker import Performer, performers, run_effects

CHUNK = 1_000
NOTICE_DAYS = 3
WORKER_BATCH = 50  # what the daemon's worker claims per round (``Scheduler._worker``)
TIMEOUT = 1_800.0


def _serve_stripe(conn: Connection, customers: int) -> None:
    """The Stripe simulator in a process of its own (the bench's memory is syncd's alone): seeds
    ``customers`` customers with a Visa on file, then answers the bench's steering calls."""
    sim = StripeSimulator(automatic_payouts=False).start()
    try:
        saved = [sim.save_method(f"Customer {n}") for n in range(customers)]
        conn.send((sim.url, sim.api_key, saved))
        while True:
            what, arg = conn.recv()
            if what == "stop":
                break
            if what == "advance":
                sim.clock.advance(timedelta(days=arg))
            elif what == "limits":
                sim.limits.enabled = bool(arg)
            limits = sim.limits
            conn.send(
                {
                    "requests": sim.request_count(),
                    "throttled": limits.throttled,
                    "limits": (
                        limits.global_per_second,
                        limits.endpoint_per_second,
                        limits.search_per_second,
                    ),
                }
            )
    finally:
        sim.stop()
        conn.close()


class StripeProcess:
    """The bench's handle on the Stripe simulator's process."""

    def __init__(self, customers: int) -> None:
        self._conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.get_context("fork").Process(
            target=_serve_stripe, args=(child, customers), daemon=True
        )
        self.proc.start()
        self.url, self.api_key, self.saved = self._conn.recv()

    def ask(self, what: str, arg: object = None) -> dict[str, Any]:
        self._conn.send((what, arg))
        return dict(self._conn.recv())

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(("stop", None))
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


class _RssWatch:
    """The highest resident size of this process seen while it runs (sampled twice a second):
    the high-water mark of one phase, where ``ru_maxrss`` keeps the whole run's."""

    def __init__(self) -> None:
        self.peak = current_rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="rss-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, current_rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, current_rss_mb())


class _Discard:
    """A mailer that keeps nothing: the figure is syncd's own work, not an SMTP server's."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: EmailMessage) -> None:
        self.sent += 1


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _Timed:
    """The charge handler, noting when each charge began and ended (wall clock)."""

    def __init__(self, performer: Performer) -> None:
        self.performer = performer
        self.lock = threading.Lock()
        self.began: list[float] = []
        self.ended: list[float] = []

    def handler(self, ctx: Context, effect: Any) -> Any:
        with self.lock:
            self.began.append(time.monotonic())
        try:
            return self.performer.handler(ctx, effect)
        finally:
            with self.lock:
                self.ended.append(time.monotonic())


def _context(state: Path, info: dict[str, Any], stripe: StripeProcess, clock: _Clock) -> tuple[Context, str]:
    realm = str(info["realm_id"])
    settings = config.parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{state}/syncd.db"},
            "web": {"public_url": "https://pay.example.com"},
            "quickbooks": {
                "environment": info["discovery_url"],
                "api_base_url": info["api_base_url"],
                "client_id": "sim-client",
                "client_secret": "sim-secret",
                "webhook_verifier_token": "sim-verifier",
            },
            "stripe": {"api_key": stripe.api_key, "webhook_secret": "whsec_bench", "api_base": stripe.url},
            "company": [
                {
                    "realm_id": realm,
                    "timezone": "UTC",
                    "link_writeback": "off",
                    "autopay": {"enabled": True, "charge_hour": 0, "notice_days": NOTICE_DAYS},
                }
            ],
        }
    )
    ctx = dataclasses.replace(build_context(settings, clock=clock, require_stripe=True), mailer=_Discard())
    migrate.upgrade(ctx.db)
    ensure_companies(ctx)
    now = clock()
    tokens = QboTokens(str(info["access_token"]), str(info["refresh_token"]), now + timedelta(days=30), None)
    token_store(ctx).save(realm, tokens)
    return ctx, realm


def _enroll(ctx: Context, realm: str, stripe: StripeProcess, due: Any, customers: int) -> int:
    """``customers`` open mirrored invoices due on ``due``, each for a customer of its own enrolled
    with a Visa on file. (The QBO simulator seeds ten invoices a customer, some of them paid; the
    bench gives each open invoice a customer of its own in syncd's mirror.)"""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        invoices = list(
            session.scalars(
                select(InvoiceRow.qbo_id)
                .where(
                    InvoiceRow.company_id == realm,
                    InvoiceRow.status == "open",
                    InvoiceRow.balance == InvoiceRow.total,
                )
                .order_by(InvoiceRow.qbo_id)
                .limit(customers)
            )
        )
    for first in range(0, len(invoices), CHUNK):
        with ctx.db.transaction() as session:
            for n, invoice_id in enumerate(invoices[first : first + CHUNK], start=first):
                customer = f"bench-{invoice_id}"
                stripe_customer, method = stripe.saved[n]
                session.execute(
                    update(InvoiceRow)
                    .where(InvoiceRow.company_id == realm, InvoiceRow.qbo_id == invoice_id)
                    .values(customer_id=customer, customer_name=f"Customer {invoice_id}", due_date=due)
                )
                session.add(
                    CustomerRow(
                        company_id=realm,
                        qbo_id=customer,
                        display_name=f"Customer {invoice_id}",
                        email=f"c{invoice_id}@example.com",
                        currency="USD",
                        stripe_customer_id=stripe_customer,
                        updated_at=now,
                    )
                )
                session.add(
                    SavedMethodRow(
                        payment_method_id=method,
                        company_id=realm,
                        qbo_customer_id=customer,
                        stripe_customer_id=stripe_customer,
                        kind="card",
                        brand="visa",
                        last4="4242",
                        exp_month=8,
                        exp_year=2030,
                        is_default=True,
                        attached_at=now,
                        updated_at=now,
                    )
                )
                session.add(
                    AutopayEnrollment(
                        company_id=realm,
                        customer_id=customer,
                        payment_method_id=method,
                        consent_reference=f"autopay:bench:{invoice_id}",
                        enrolled_at=now,
                        updated_at=now,
                    )
                )
    return len(invoices)


def _statuses(ctx: Context, realm: str) -> dict[str, int]:
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(AutopayCharge.status, func.count())
            .where(AutopayCharge.company_id == realm)
            .group_by(AutopayCharge.status)
        ).all()
    return {str(status): int(n) for status, n in rows}


def _notices(ctx: Context, realm: str) -> dict[str, Any]:
    mailer = ctx.mailer
    assert isinstance(mailer, _Discard)
    started = time.perf_counter()
    queued = autopay.run(ctx, realm)
    planned = time.perf_counter() - started
    while run_effects(ctx, owner="bench", limit=500, kinds=[EffectKind.EMAIL_AUTOPAY_NOTICE.value]):
        pass
    total = time.perf_counter() - started
    return {
        "notices_queued": queued,
        "planned_and_queued_s": round(planned, 2),
        "notices_rendered": mailer.sent,
        "planned_queued_rendered_s": round(total, 2),
        "target_notices_s": 60,
    }


def _due_day(ctx: Context, realm: str, stripe: StripeProcess, charges: int) -> dict[str, Any]:
    table = dict(performers())
    kind = EffectKind.STRIPE_AUTOPAY_CHARGE.value
    timed = _Timed(table[kind])
    table[kind] = dataclasses.replace(table[kind], handler=timed.handler)
    before = stripe.ask("limits", True)  # from here on, Stripe's published limits hold
    started = time.monotonic()
    queued = autopay.run(ctx, realm)
    queued_s = time.monotonic() - started
    deadline = started + TIMEOUT
    # The daemon's worker: rounds of WORKER_BATCH claimed effects, eight at a time.
    while time.monotonic() < deadline:
        if not run_effects(ctx, owner="bench", realm_id=realm, limit=WORKER_BATCH, kinds=[kind], table=table):
            with ctx.db.transaction() as session:
                waiting = session.scalar(
                    select(func.count()).where(Effect.kind == kind, Effect.status == "pending")
                )
            if not waiting:
                break
            time.sleep(0.5)  # a retry after a 429 or a 5xx, due shortly
    done = time.monotonic()
    after = stripe.ask("counts")
    statuses = _statuses(ctx, realm)
    with ctx.db.transaction() as session:
        booking = session.scalar(
            select(func.count()).where(
                Effect.kind == EffectKind.QBO_PAYMENT.value, Effect.status == "pending"
            )
        )
    first_start = min(timed.began) if timed.began else done
    last_start = max(timed.began) if timed.began else done
    succeeded = statuses.get(ChargeStatus.SUCCEEDED.value, 0)
    elapsed = done - started
    return {
        "charges": charges,
        "charge_effects_queued": queued,
        "queue_s": round(queued_s, 2),
        "every_charge_started_s": round(last_start - started, 1),
        "first_charge_started_s": round(first_start - started, 2),
        "every_charge_answered_s": round(elapsed, 1),
        "charges_per_second": round(succeeded / elapsed, 1) if elapsed > 0 else None,
        "succeeded": succeeded,
        "statuses": statuses,
        "stripe_requests": after["requests"] - before["requests"],
        "stripe_429": after["throttled"] - before["throttled"],
        "stripe_limits_per_second": "{} global, {} per endpoint, {} search".format(*after["limits"]),
        "qbo_payments_left_to_book": booking,
        "target_started_s": 600,
    }


def bench_autopay(customers: int) -> dict[str, Any]:
    """Notices, then the due day, for ``customers`` enrolled customers with one invoice each."""
    # About half the seeded invoices are open and unpaid: seed enough for ``customers`` of them.
    sim = SimulatorProcess(customers * 5 // 2 + 20, "--currencies", "USD")
    stripe = StripeProcess(customers)
    try:
        with tempfile.TemporaryDirectory(prefix="syncd-bench-autopay-") as state:
            today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
            clock = _Clock(today)
            ctx, realm = _context(Path(state), sim.info, stripe, clock)
            pull(ctx, realm)
            enrolled = _enroll(ctx, realm, stripe, today.date() + timedelta(days=NOTICE_DAYS), customers)
            rss_before = current_rss_mb()
            watch = _RssWatch()
            results: dict[str, Any] = {"enrolled_customers": enrolled, **_notices(ctx, realm)}
            clock.now = today + timedelta(days=NOTICE_DAYS)
            stripe.ask("advance", NOTICE_DAYS)
            reads = ctx.qbo(realm).counts().reads
            results.update(_due_day(ctx, realm, stripe, enrolled))
            results["qbo_reads_on_the_due_day"] = ctx.qbo(realm).counts().reads - reads
            results["rss_before_notices_mb"] = round(rss_before, 1)
            results["peak_rss_notices_and_due_day_mb"] = round(watch.stop(), 1)
            results["rss_after_mb"] = round(current_rss_mb(), 1)
            results["peak_rss_whole_run_mb"] = round(peak_rss_mb(), 1)  # the first pull's, mostly
            results["target_peak_rss_mb"] = 300
            ctx.db.dispose()
    finally:
        stripe.stop()
        sim.stop()
    return results
