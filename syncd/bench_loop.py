"""The measured loop of ``syncd bench``: payment latency (webhook in → QBO Payment out) and
pull+publish throughput and memory for a large company, over the simulators on loopback."""

from __future__ import annotations

import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from syncd import intake as real_intake
from syncd.bootstrap import build_context
from syncd.catalog import EffectKind
from syncd.companies import ensure_companies
from syncd.config import parse
from syncd.context import Context, token_store
from syncd.demo import start_demo
from syncd.errors import PermanentError
from syncd.ports.quickbooks import QboTokens
from syncd.secrets import SecretBox
from syncd.stages.collect import PortalService
from syncd.stages.publish import publish
from syncd.stages.pull import pull
from syncd.store import effects, migrate
from syncd.store.models import LINK_OF_INVOICE, Effect, InvoiceRow, PaymentRow, PortalLink

SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]+")


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mb()
    return pages * resource.getpagesize() / (1024 * 1024)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p95 is a latency that happened)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


# -- (a) payment latency -------------------------------------------------------------------------


class TimedIntake:
    """The real intake, noting when each Stripe webhook arrived, keyed by the objects it names."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arrivals: dict[str, float] = {}
        self.stored: dict[str, float] = {}  # when the intake had stored it

    def accept_stripe(self, ctx: Context, body: bytes, signature: str | None) -> str:
        arrived = time.time()
        event_id = real_intake.accept_stripe(ctx, body, signature)
        stored = time.time()
        try:
            obj = json.loads(body)["data"]["object"]
            keys = [obj.get("id"), obj.get("payment_intent")]
        except (ValueError, KeyError, TypeError, AttributeError):
            keys = []
        with self._lock:
            for key in keys:
                if isinstance(key, str):
                    self.arrivals.setdefault(key, arrived)
                    self.stored.setdefault(key, stored)
        return event_id

    def accept_qbo(self, ctx: Context, body: bytes, signature: str | None) -> list[str]:
        return real_intake.accept_qbo(ctx, body, signature)


def wait_for_payments(ctx: Context, sessions: set[str], timeout: float) -> dict[str, float]:
    """When each checkout session's QBO Payment was created (epoch seconds), from the ledger."""

    deadline = time.monotonic() + timeout
    while True:
        with ctx.db.transaction() as session:
            rows = session.execute(
                select(PaymentRow.checkout_session_id, Effect.done_at)
                .join(Effect, effects.payload_text("payment_key") == PaymentRow.key)
                .where(Effect.kind == EffectKind.QBO_PAYMENT, Effect.status == "done")
            ).all()
        created = {sid: done.timestamp() for sid, done in rows if sid in sessions and done is not None}
        if len(created) == len(sessions) or time.monotonic() > deadline:
            return created
        time.sleep(0.2)


def wait_payable(ctx: Context, realm: str, count: int, timeout: float) -> list[str]:
    """Up to ``count`` open invoices of ``realm`` that have a payment link, once there are that
    many or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        with ctx.db.transaction() as session:
            ids = list(
                session.scalars(
                    select(InvoiceRow.qbo_id)
                    .join(PortalLink, LINK_OF_INVOICE)
                    .where(
                        InvoiceRow.company_id == realm,
                        InvoiceRow.status.in_(["open", "partial"]),
                        InvoiceRow.balance > Decimal(0),
                    )
                    .order_by(InvoiceRow.qbo_id)
                    .limit(count)
                )
            )
        if len(ids) >= count or time.monotonic() > deadline:
            return ids
        time.sleep(0.1)


def _start(backend: Any, token: str, attempts: int = 20) -> str:
    """As a payer would: if the worker is creating the session right now, try again shortly."""
    for attempt in range(attempts):
        try:
            return str(backend.start_payment(token, None))
        except PermanentError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)
    raise AssertionError("unreachable")


def wait_quiet(ctx: Context, timeout: float) -> None:
    """Until no effect is pending (or ``timeout`` seconds passed): what is measured next runs alone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.db.transaction() as session:
            if effects.counts(session)["pending"] == 0:
                return
        time.sleep(0.1)


def open_sessions(ctx: Context, targets: list[tuple[str, str]]) -> dict[str, str]:
    """A checkout session per (realm, invoice) of ``targets``, as the portal backend opens them."""
    backend = PortalService(ctx)
    sessions: dict[str, str] = {}
    for realm, invoice_id in targets:
        url = _start(backend, ctx.links.token(realm, invoice_id))
        found = SESSION_ID.search(url)
        if found is None:
            raise RuntimeError(f"no checkout session id in {url}")
        sessions[f"{realm}:{invoice_id}"] = found.group(0)
    return sessions


def pay_sessions(
    ctx: Context,
    stripe: Any,
    timed: TimedIntake,
    sessions: dict[str, str],
    rate: float | None,
    timeout: float,
) -> list[float]:
    """Pay each session at the Stripe simulator's checkout, ``rate`` per second or all at once; each
    payment's latency from its first webhook reaching the app to its QBO Payment."""
    for session_id in sessions.values():
        stripe.pay_checkout(session_id, "card_success")
        if rate:
            time.sleep(1.0 / rate)
    # The ledger stamps each QBO Payment effect when QBO has answered the create: read the
    # times from there afterwards rather than polling QBO beside the daemon.
    created = wait_for_payments(ctx, set(sessions.values()), timeout)
    intents = {s["id"]: s.get("payment_intent") for s in stripe.objects("checkout.session")}
    latencies = []
    for session_id in sessions.values():
        # The first webhook to name the payment, whether it names the session or the intent.
        starts = [timed.arrivals.get(k) for k in (session_id, str(intents.get(session_id) or ""))]
        arrived = min((t for t in starts if t is not None), default=None)
        done = created.get(session_id)
        if arrived is not None and done is not None:
            latencies.append(max(0.0, done - arrived))
    return latencies


def pay_and_measure(
    ctx: Context,
    stripe: Any,
    timed: TimedIntake,
    targets: list[tuple[str, str]],
    rate: float | None,
    timeout: float,
) -> tuple[dict[str, str], list[float]]:
    """Pay each (realm, invoice) of ``targets`` through the portal backend and the Stripe
    simulator's checkout, ``rate`` per second or all at once; the checkout session per invoice and
    each payment's latency from its first webhook reaching the app to its QBO Payment."""
    sessions = open_sessions(ctx, targets)
    return sessions, pay_sessions(ctx, stripe, timed, sessions, rate, timeout)


def latency_figures(sessions: dict[str, str], latencies: list[float], rate: float | None) -> dict[str, Any]:
    """The payment latency figures ``syncd bench`` prints."""
    return {
        "payments": len(sessions),
        "paid_per_second": rate if rate else "all at once",
        "completed": len(latencies),
        "p50_seconds": round(percentile(latencies, 50), 3) if latencies else None,
        "p95_seconds": round(percentile(latencies, 95), 3) if latencies else None,
        "max_seconds": round(max(latencies), 3) if latencies else None,
        "mean_seconds": round(statistics.fmean(latencies), 3) if latencies else None,
    }


def bench_payments(
    payments: int,
    *,
    rate: float | None = None,
    timeout: float = 180.0,
    invoices: int | None = None,
    settle: bool = True,
) -> dict[str, Any]:
    """Pay ``payments`` invoices through the portal backend and the Stripe simulator's checkout;
    latency runs from the webhook reaching the app to the Payment existing in QBO. Customers pay
    ``rate`` per second, or all at once (a burst) when ``rate`` is None. ``settle=False`` pays
    during the first sync, while its emails and link write-backs are still going out."""

    timed = TimedIntake()
    # The default [scheduler] intervals: what a real installation runs with.
    with tempfile.TemporaryDirectory(prefix="syncd-bench-") as state:
        handle = start_demo(
            port=0,
            invoices=invoices or max(40, payments * 3),
            state_dir=Path(state),
            intervals={},
            intake=timed,
        )
        try:
            realm = handle.qbo.realm_id
            payable = wait_payable(handle.ctx, realm, payments, timeout=60)
            # Measure payments, not the first pull's backlog of emails and link write-backs.
            if settle:
                wait_quiet(handle.ctx, timeout=120)
            targets = [(realm, invoice_id) for invoice_id in payable]
            sessions, latencies = pay_and_measure(handle.ctx, handle.stripe, timed, targets, rate, timeout)
            qbo_counts = handle.qbo.counts()
        finally:
            handle.stop()
    return {**latency_figures(sessions, latencies, rate), "qbo_throttled_429": qbo_counts.get("throttled", 0)}


# -- (b) pull + publish throughput and memory ----------------------------------------------------


class SimulatorProcess:
    """The QBO simulator in its own process, so this process's memory is syncd's alone."""

    def __init__(self, invoices: int, *options: str) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
            [
                sys.executable,
                "-m",
                "connectors.quickbooks.simulator",
                "--port",
                "0",
                "--invoices",
                str(invoices),
                "--json",
                *options,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.info = self._read_info()

    def _read_info(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        buffer = ""
        for line in self.proc.stdout:
            if line.startswith("{") or buffer:
                buffer += line
                try:
                    return dict(json.loads(buffer))
                except ValueError:
                    continue
        raise RuntimeError("the QBO simulator exited before it was ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()


def simulated_context(state: Path, info: dict[str, Any], writeback: str) -> tuple[Context, str]:
    """A migrated SQLite context in ``state`` connected to the simulator described by ``info``
    (its one company, ``link_writeback`` as given, holding the simulator's tokens)."""
    realm = str(info["realm_id"])
    settings = parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{state}/syncd.db"},
            "quickbooks": {
                "environment": info["discovery_url"],
                "api_base_url": info["api_base_url"],
                "client_id": "sim-client",
                "client_secret": "sim-secret",
                "webhook_verifier_token": "sim-verifier",
            },
            "company": [{"realm_id": realm, "link_writeback": writeback}],
        }
    )
    ctx = build_context(settings)
    migrate.upgrade(ctx.db)
    ensure_companies(ctx)
    now = ctx.clock()
    tokens = QboTokens(str(info["access_token"]), str(info["refresh_token"]), now + timedelta(hours=1), None)
    token_store(ctx).save(realm, tokens)
    return ctx, realm


def bench_pull(invoices: int) -> dict[str, Any]:

    sim = SimulatorProcess(invoices)
    try:
        with tempfile.TemporaryDirectory(prefix="syncd-bench-") as state:
            ctx, realm = simulated_context(Path(state), sim.info, "off")
            rss_before = current_rss_mb()
            started = time.perf_counter()
            result = pull(ctx, realm)
            pulled = time.perf_counter()
            published = publish(ctx, realm)
            done = time.perf_counter()
            counts = ctx.qbo(realm).counts()
            ctx.db.dispose()
    finally:
        sim.stop()
    total = done - started
    return {
        "invoices": result.invoices,
        "customers": result.customers,
        "links_published": published,
        "pull_seconds": round(pulled - started, 3),
        "publish_seconds": round(done - pulled, 3),
        "invoices_per_second": round(result.invoices / total, 1) if total > 0 else None,
        "qbo_requests": counts.reads + counts.writes + counts.batches,
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(current_rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
