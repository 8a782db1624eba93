"""Integration fixtures: the outside world on loopback (QBO and Stripe simulators, an SMTP sink)
and the daemon as a real ``syncd run`` subprocess that tests can kill and restart."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.email.sink import SmtpSink
from connectors.quickbooks.simulator import QboSimulator
from connectors.stripe.simulator import StripeSimulator
from syncd.config import Settings, load
from syncd.ports.quickbooks import QboTokens
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.migrate import upgrade
from syncd.store.tokens import EncryptedTokenStore

COMPANY_NAME = "Northwind IT Services"
STRIPE_WEBHOOK_SECRET = "whsec_integration"
CHECKOUT_SESSION = re.compile(r"/pay/(cs_[A-Za-z0-9_]+)")
PORTAL_LINK = re.compile(r"https?://[^\s\"'<>]+/i/[A-Za-z0-9_-]{32}")


def free_port() -> int:
    """A loopback port nobody listens on right now (the daemon binds it itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str | Callable[[], str],
    interval: float = 0.1,
) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` (called then, if callable) after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = what() if callable(what) else what
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {detail}")
        time.sleep(interval)


def tokens_from_response(response: dict[str, Any], now: datetime) -> QboTokens:
    """A token endpoint answer (``QboSimulator.mint_tokens()``) as the store keeps it."""
    refresh_in = response.get("x_refresh_token_expires_in")
    return QboTokens(
        access_token=str(response["access_token"]),
        refresh_token=str(response["refresh_token"]),
        access_expires_at=now + timedelta(seconds=int(response["expires_in"])),
        refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
    )


@dataclass
class World:
    """Everything outside syncd, served from the test process on loopback."""

    qbo: QboSimulator
    stripe: StripeSimulator
    sink: SmtpSink
    state_dir: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "syncd.toml"

    def write_config(
        self,
        *,
        reminders: bool = False,
        database_url: str | None = None,
        first_sync: str = "email_open",
        staff_email: str | None = None,
    ) -> Settings:
        """A config for ``syncd run`` against the simulators, with tokens already connected."""
        db_url = database_url or f"sqlite:///{self.state_dir / 'syncd.db'}"
        self.config_path.write_text(
            f"""\
secret_key = "{SecretBox.generate()}"
log_level = "info"

[database]
url = "{db_url}"

[web]
public_url = "{self.url}"
host = "127.0.0.1"
port = {self.port}

[quickbooks]
environment = "{self.qbo.discovery_url}"
api_base_url = "{self.qbo.api_base_url}"
client_id = "sim-client"
client_secret = "sim-secret"
webhook_verifier_token = "sim-verifier"
timeout_seconds = 5.0

[stripe]
api_key = "{self.stripe.api_key}"
api_base = "{self.stripe.url}"
webhook_secret = "{STRIPE_WEBHOOK_SECRET}"

[smtp]
host = "127.0.0.1"
port = {self.sink.port}
security = "none"
from = "billing@northwind.test"
timeout_seconds = 5.0

[scheduler]
pull_seconds = 2
worker_seconds = 0.2
inbox_seconds = 0.2
backfill_seconds = 5
refresh_seconds = 600

[[company]]
realm_id = "{self.qbo.realm_id}"
payment_methods = ["card", "us_bank_account"]
allow_partial = true
first_sync = "{first_sync}"
reminder_days = {"[3, 10]" if reminders else "[]"}
{f'staff_email = "{staff_email}"' if staff_email else ""}

[company.branding]
name = "{COMPANY_NAME}"
contact_email = "billing@northwind.test"
"""
        )
        settings = load(self.config_path)
        self.qbo.set_webhook_url(f"{self.url}/webhooks/quickbooks")
        self.stripe.add_webhook_endpoint(f"{self.url}/webhooks/stripe", secret=STRIPE_WEBHOOK_SECRET)
        self._connect_quickbooks(settings)
        return settings

    def _connect_quickbooks(self, settings: Settings) -> None:
        """What ``syncd connect quickbooks`` leaves behind: the company's tokens, encrypted."""
        db = Database(settings.database_url)
        try:
            upgrade(db)
            store = EncryptedTokenStore(db, SecretBox(settings.secret_key))
            store.save(self.qbo.realm_id, tokens_from_response(self.qbo.mint_tokens(), datetime.now(UTC)))
        finally:
            db.dispose()

    def database(self) -> Database:
        return Database(load(self.config_path).database_url)

    # Test modules cannot import conftest under importlib mode: the helpers ride on the fixture.
    wait_until = staticmethod(wait_until)

    @staticmethod
    def portal_links(text: str | None) -> list[str]:
        """Portal URLs in an email body."""
        return PORTAL_LINK.findall(text or "")


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """QBO simulator (12 seeded invoices; an indirect parameter may name its currencies), Stripe
    simulator and SMTP sink, stopped afterwards."""
    currencies = getattr(request, "param", {}).get("currencies", ("USD", "CAD"))
    qbo = QboSimulator(seed=7, invoices=12, currencies=currencies)
    stripe = StripeSimulator()
    sink = SmtpSink()
    qbo.start()
    try:
        stripe.start()
        try:
            with sink:
                yield World(qbo=qbo, stripe=stripe, sink=sink, state_dir=tmp_path)
        finally:
            stripe.stop()
    finally:
        qbo.stop()


def syncd_command() -> list[str]:
    """The installed console script beside this interpreter, else the module entry point."""
    script = Path(sys.executable).with_name("syncd")
    if script.exists():
        return [str(script)]
    found = shutil.which("syncd")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from syncd.cli.main import main; sys.exit(main())"]


class Daemon:
    """``syncd run --config …`` as a child process; its output goes to a log file per start."""

    def __init__(self, config_path: Path, url: str) -> None:
        self.config_path = config_path
        self.url = url
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.logs: list[Path] = []

    def start(self, *, ready_timeout: float = 30.0) -> None:
        assert self.proc is None, "already running"
        self.starts += 1
        log = self.config_path.parent / f"daemon-{self.starts}.log"
        self.logs.append(log)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("SYNCD_CONFIG", None)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*syncd_command(), "--config", str(self.config_path), "run"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.config_path.parent,
            )
        self.wait_ready(ready_timeout)

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"syncd run exited with {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"syncd run not healthy after {timeout:.0f}s:\n{self.tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, leases left behind — a crash. The next ``syncd run``
        on this host frees what the dead process held (``syncd.store.owners.reclaim_dead``)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: the graceful stop systemd performs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            pytest.fail(f"syncd run ignored SIGTERM for {timeout:.0f}s:\n{self.tail()}")
        self.proc = None
        return code

    def tail(self, lines: int = 40) -> str:
        if not self.logs:
            return "(no output)"
        text = self.logs[-1].read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def daemon(world: World) -> Iterator[Callable[[], Daemon]]:
    """A factory for the daemon over ``world``'s config (write it first); killed at teardown."""
    made: list[Daemon] = []

    def make() -> Daemon:
        proc = Daemon(world.config_path, world.url)
        made.append(proc)
        return proc

    yield make
    for proc in made:
        proc.close()


class PortalClient:
    """A payer's browser reduced to HTTP: open the invoice page, submit its Pay form with the
    CSRF token it carries, and follow the 303 to Stripe Checkout."""

    _TOKEN_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')

    def __init__(self) -> None:
        self.http = requests.Session()

    def start_payment(self, portal_url: str, amount: str | None = None) -> str:
        """The Checkout Session id the portal sent the payer to."""
        page = self.http.get(portal_url, timeout=10)
        page.raise_for_status()
        match = self._TOKEN_FIELD.search(page.text)
        assert match, f"no Pay form on {portal_url}"
        form = {"csrf_token": match.group(1)}
        if amount is not None or 'name="amount"' in page.text:
            form["amount"] = amount or _balance_field(page.text)
        answer = self.http.post(f"{portal_url}/pay", data=form, allow_redirects=False, timeout=30)
        assert answer.status_code == 303, f"pay answered {answer.status_code}: {answer.text[:300]}"
        found = CHECKOUT_SESSION.search(answer.headers["location"])
        assert found, f"not a checkout URL: {answer.headers['location']}"
        return found.group(1)

    def close(self) -> None:
        self.http.close()


def _balance_field(html: str) -> str:
    match = re.search(r'id="amount"[^>]*value="([^"]*)"', html, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def portal() -> Iterator[PortalClient]:
    client = PortalClient()
    yield client
    client.close()
