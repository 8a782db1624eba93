"""``syncd demo``: the whole loop on one machine with no accounts — simulators, mailbox, daemon."""

from __future__ import annotations

import secrets
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import structlog
from starlette.types import Receive, Scope, Send

from connectors.email.sink import Mailbox, SmtpSink
from connectors.quickbooks.simulator import QboSimulator
from connectors.serving import ThreadedServer
from connectors.sms.simulator import TwilioSimulator
from connectors.stripe.simulator import StripeSimulator
from syncd.bootstrap import build_context
from syncd.config import load
from syncd.context import Context, token_store
from syncd.daemon import Service, configure_logging
from syncd.demo_autopay import CUSTOMER, NOTICE_DAYS, DemoClock, clock_routes, seed_autopay
from syncd.ports.quickbooks import QboTokens
from syncd.secrets import SecretBox
from syncd.web.webhooks import Intake

log = structlog.get_logger(__name__)

COMPANY_NAME = "Northwind IT Services"


class LateApp:
    """The server must be bound (to learn its port) before the app that needs its URL exists."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _table(name: str, values: dict[str, object], *, array: bool = False) -> str:
    head = f"[[{name}]]" if array else f"[{name}]"
    return "\n".join([head, *(f"{k} = {_toml(v)}" for k, v in values.items())]) + "\n"


# The simulator's foreign currency; its payouts go to a bank account of their own (see demo_banks).
DEMO_FOREIGN = ("CAD",)


def demo_banks(qbo: QboSimulator) -> None:
    """A bank account per foreign currency, so the demo's payouts in it are booked, not held."""
    for code in DEMO_FOREIGN:
        qbo.create_entity(
            "Account", {"Name": f"Checking {code}", "AccountType": "Bank", "CurrencyRef": {"value": code}}
        )


def demo_mobiles(qbo: QboSimulator) -> None:
    """Every demo customer gets a mobile number in QBO (texted under the company's attestation)."""
    for n, customer in enumerate(qbo.entities("Customer")):
        qbo.update_entity(
            "Customer", str(customer["Id"]), Mobile={"FreeFormNumber": f"(415) 555-{n % 100:04d}"}
        )


def demo_sms(twilio: TwilioSimulator) -> dict[str, object]:
    """``[company.sms]`` on the Twilio simulator: QBO mobiles attested, no quiet hours (a demo runs
    at any hour)."""
    return {
        "enabled": True,
        "account_sid": twilio.account_sid,
        "auth_token": twilio.auth_token,
        "from_number": twilio.number,
        "api_base": twilio.url,
        "attest_qbo_mobile": True,
        "quiet_start": 0,
        "quiet_end": 0,
    }


DEMO_INTERVALS: dict[str, float] = {
    "pull_seconds": 5.0,
    "worker_seconds": 0.5,
    "inbox_seconds": 0.5,
    "backfill_seconds": 30.0,
    "refresh_seconds": 300.0,
}


def demo_config(
    *,
    url: str,
    port: int,
    state_dir: Path,
    qbo: QboSimulator,
    stripe: StripeSimulator,
    sink: SmtpSink,
    secret: str,
    intervals: dict[str, float] | None = None,
    twilio: TwilioSimulator | None = None,
    company: dict[str, object] | None = None,
) -> str:
    """The configuration file the demo daemon runs with (written to the state dir, then loaded)."""
    parts = [
        f'secret_key = {_toml(SecretBox.generate())}\nlog_level = "warning"\n',
        _table("database", {"url": f"sqlite:///{(state_dir / 'syncd.db').as_posix()}"}),
        _table("web", {"public_url": url, "host": "127.0.0.1", "port": port}),
        _table(
            "quickbooks",
            {
                "environment": qbo.discovery_url,
                "api_base_url": qbo.api_base_url,
                "client_id": "sim-client",
                "client_secret": "sim-secret",
                "redirect_uri": f"{url}/connect/quickbooks/callback",
                "webhook_verifier_token": "sim-verifier",
                "timeout_seconds": 10.0,
            },
        ),
        _table("stripe", {"api_key": stripe.api_key, "webhook_secret": secret, "api_base": stripe.url}),
        _table(
            "smtp",
            {"host": sink.host, "port": sink.port, "security": "none", "from": "billing@northwind.example"},
        ),
        _table("scheduler", dict(DEMO_INTERVALS if intervals is None else intervals)),
        _table(
            "company",
            {
                "realm_id": qbo.realm_id,
                "payment_methods": ["card", "us_bank_account"],
                "allow_partial": True,
                # The demo shows the emails: its whole (simulated) backlog is mailed at once.
                "first_sync": "email_open",
                "staff_email": "office@northwind.example",
                **(company or {}),
            },
            array=True,
        ),
        _table("company.branding", {"name": COMPANY_NAME, "contact_email": "billing@northwind.example"}),
        # One customer pays by autopay (``syncd.demo_autopay``); the demo clock brings its charge day.
        _table("company.autopay", {"enabled": True, "charge_hour": 0, "notice_days": NOTICE_DAYS}),
        _table("company.accounts", {"bank": "Checking"}),
        _table("company.accounts.banks", {code: f"Checking {code}" for code in DEMO_FOREIGN}),
    ]
    if twilio is not None:
        parts.append(_table("company.sms", demo_sms(twilio)))
    return "\n".join(parts)


def tokens_from_response(response: dict[str, Any], ctx: Context) -> QboTokens:
    now = ctx.clock()
    refresh_for = response.get("x_refresh_token_expires_in")
    return QboTokens(
        access_token=str(response["access_token"]),
        refresh_token=str(response["refresh_token"]),
        access_expires_at=now + timedelta(seconds=int(response.get("expires_in", 3600))),
        refresh_expires_at=now + timedelta(seconds=int(refresh_for)) if refresh_for else None,
    )


@dataclass
class DemoHandle:
    """A running demo: ``url`` of the portal/webhooks, the mailbox, both simulators, the context."""

    url: str
    mailbox: Mailbox
    qbo: QboSimulator
    stripe: StripeSimulator
    ctx: Context
    service: Service
    state_dir: Path
    _stops: list[Any] = field(default_factory=list)
    _owned_dir: bool = False
    _stopped: bool = False
    twilio: TwilioSimulator | None = None
    clock: DemoClock = field(default_factory=DemoClock)
    autopay_invoice: str = ""  # the QBO invoice of the customer enrolled in autopay

    def stop(self) -> None:
        """Stop the daemon (jobs finish, leases are returned), then the simulators and the sink."""
        if self._stopped:
            return
        self._stopped = True
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:
                log.exception("demo_stop_failed")
        if self._owned_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> DemoHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_demo(
    port: int = 0,
    invoices: int = 12,
    state_dir: Path | None = None,
    *,
    intervals: dict[str, float] | None = None,
    intake: Intake | None = None,
    company: dict[str, object] | None = None,
) -> DemoHandle:
    """Start everything on loopback; ``port`` 0 picks a free one. Call ``.stop()`` when done.

    ``intervals`` replaces the demo's short ``[scheduler]`` settings (an empty dict: the defaults);
    ``intake`` wraps webhook intake (the benchmark times arrivals with it); ``company`` replaces
    settings of the demo company (a benchmark leaves out what it does not measure)."""
    owned = state_dir is None
    directory = Path(tempfile.mkdtemp(prefix="syncd-demo-")) if state_dir is None else state_dir
    directory.mkdir(parents=True, exist_ok=True)
    stops: list[Any] = []
    try:
        late = LateApp()
        server = ThreadedServer(late, "127.0.0.1", port)
        url = server.url
        stops.append(server.stop)
        sink = SmtpSink().start()
        stops.append(sink.stop)
        qbo = QboSimulator(seed=0, invoices=invoices, webhook_url=f"{url}/webhooks/quickbooks").start()
        stops.append(qbo.stop)
        demo_banks(qbo)
        demo_mobiles(qbo)
        twilio = TwilioSimulator(sms_url=f"{url}/webhooks/twilio").start()
        stops.append(twilio.stop)
        stripe = StripeSimulator().start()
        stops.append(stripe.stop)
        secret = "whsec_" + secrets.token_hex(24)
        stripe.add_webhook_endpoint(f"{url}/webhooks/stripe", secret)
        config_path = directory / "syncd.toml"
        config_path.write_text(
            demo_config(
                url=url,
                port=server.port,
                state_dir=directory,
                qbo=qbo,
                stripe=stripe,
                sink=sink,
                secret=secret,
                intervals=intervals,
                twilio=twilio,
                company=company,
            )
        )
        config_path.chmod(0o600)
        settings = load(config_path)
        clock = DemoClock()
        ctx = build_context(settings, require_stripe=True, clock=clock)

        def wake() -> None:
            service.scheduler.wake("pull", qbo.realm_id)

        routes = clock_routes(ctx, qbo.realm_id, clock, stripe, wake)
        service = Service(settings, ctx=ctx, mailbox=sink.mailbox, intake=intake, extra_routes=routes)
        token_store(ctx).save(qbo.realm_id, tokens_from_response(qbo.mint_tokens(), ctx))
        autopay_invoice = seed_autopay(ctx, qbo, stripe, COMPANY_NAME)
        late.app = service.app
        server.start()
        service.start_jobs()
        stops.append(service.stop_jobs)
    except BaseException:
        for stop in reversed(stops):
            try:
                stop()
            except Exception:
                log.exception("demo_stop_failed")
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    return DemoHandle(
        url,
        sink.mailbox,
        qbo,
        stripe,
        ctx,
        service,
        directory,
        stops,
        owned,
        twilio=twilio,
        clock=clock,
        autopay_invoice=autopay_invoice,
    )


def where_to_click(handle: DemoHandle) -> str:
    config = handle.state_dir / "syncd.toml"
    return "\n".join(
        [
            f"syncd demo is running for {COMPANY_NAME} (no accounts, nothing leaves this machine).",
            "",
            f"  1. Open the mailbox:          {handle.url}/mailbox",
            "     Each new invoice is emailed there; open one and click its payment link.",
            *(
                [f"     Texts to the customers' phones: {handle.twilio.phone_url()} (reply STOP there)."]
                if handle.twilio is not None
                else []
            ),
            "  2. Pay on the portal with the simulated Stripe Checkout (pick a test card or bank).",
            f"     Autopay: {CUSTOMER} has a card on file and autopay on; its notice is in the mailbox.",
            f"     Move the demo clock to its due date and it is charged: {handle.url}/demo/clock",
            f"  3. Watch QuickBooks:           {handle.qbo.url}/",
            "     The invoice turns paid and a Payment appears, written exactly once.",
            f"  4. From another terminal:      syncd --config {config} status",
            "",
            f"  Stripe simulator: {handle.stripe.url}",
            "",
            "Press Ctrl-C to stop.",
        ]
    )


def run_demo(*, port: int = 8000, invoices: int = 12, hints: bool = True) -> int:
    """The ``syncd demo`` command: start, print where to click, wait for Ctrl-C or SIGTERM."""
    configure_logging("warning")
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        handle = start_demo(port=port, invoices=invoices)
        try:
            click.echo(where_to_click(handle) if hints else handle.url)
            while not stop.wait(0.5):
                pass
            click.echo("Stopping…")
        finally:
            handle.stop()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
