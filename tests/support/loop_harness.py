"""A whole loop in one process for stage tests: syncd's context and web app over ``Outside`` (both
simulators and an SMTP sink), effects run by ``drain()``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outside import COMPANY_NAME, SENDER, Outside, outside
from qbo_tokens import tokens_from

from connectors.email.sink import SmtpSink
from connectors.quickbooks.simulator import QboSimulator
from connectors.serving import ThreadedServer
from connectors.stripe.simulator import StripeSimulator
from syncd import config
from syncd.bootstrap import build_context
from syncd.clock import Clock
from syncd.companies import ensure_companies
from syncd.context import Context, token_store
from syncd.secrets import SecretBox
from syncd.store.migrate import upgrade
from syncd.web.app import create_app
from syncd.worker import run_effects

WEBHOOK_SECRET = "whsec_loop_test"


class _Late:
    """An ASGI app whose target is set after the server has bound its port."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Loop(Outside):
    """``Outside`` with syncd running in this process: its context, and its web app at ``url``."""

    ctx: Context
    url: str

    def drain(self, rounds: int = 50) -> None:
        """Run the effect worker until nothing is due."""
        for _ in range(rounds):
            if run_effects(self.ctx, owner="test", limit=200) == 0:
                return
        raise AssertionError("effects kept coming")


def settings_for(
    url: str, qbo: QboSimulator, stripe: StripeSimulator, sink: SmtpSink, database_url: str, **company: Any
) -> config.Settings:
    return config.parse(settings_data(url, qbo, stripe, sink, database_url, **company))


def settings_data(
    url: str, qbo: QboSimulator, stripe: StripeSimulator, sink: SmtpSink, database_url: str, **company: Any
) -> dict[str, Any]:
    """The configuration ``settings_for`` parses, for tests that change more than one company."""
    return {
        "secret_key": SecretBox.generate(),
        "database": {"url": database_url},
        "web": {"public_url": url},
        "quickbooks": {
            "client_id": "sim-client",
            "client_secret": "sim-secret",
            "environment": qbo.discovery_url,
            "api_base_url": qbo.api_base_url,
            "webhook_verifier_token": "sim-verifier",
        },
        "stripe": {"api_key": stripe.api_key, "webhook_secret": WEBHOOK_SECRET, "api_base": stripe.url},
        "smtp": {
            "host": "127.0.0.1",
            "port": sink.port,
            "security": "none",
            "from": SENDER,
        },
        "company": [
            {
                "realm_id": qbo.realm_id,
                "payment_methods": ["card", "us_bank_account"],
                "branding": {"name": COMPANY_NAME},
                "staff_email": "staff@northwind.test",
                **company,
            }
        ],
    }


@contextmanager
def running_loop(
    tmp_path: Path,
    *,
    invoices: int = 8,
    database_url: str | None = None,
    clock: Clock | None = None,
    currencies: tuple[str, ...] = ("USD", "CAD"),
    settlement_currency: str | None = None,
    public_host: str | None = None,
    **company: Any,
) -> Iterator[Loop]:
    """``public_host`` names the app by a host name instead of 127.0.0.1 (WebAuthn refuses IP
    addresses as relying parties)."""
    late = _Late()
    server = ThreadedServer(late)
    url = server.url.replace("127.0.0.1", public_host) if public_host else server.url
    with outside(
        invoices=invoices, clock=clock, currencies=currencies, settlement_currency=settlement_currency
    ) as out:
        qbo, stripe, sink = out.qbo, out.stripe, out.sink
        settings = settings_for(
            url, qbo, stripe, sink, database_url or f"sqlite:///{tmp_path / 'syncd.db'}", **company
        )
        ctx = build_context(settings, clock=clock)
        upgrade(ctx.db)
        ensure_companies(ctx)
        token_store(ctx).save(qbo.realm_id, tokens_from(qbo.mint_tokens()))
        late.app = create_app(ctx, mailbox=sink.mailbox)
        stripe.add_webhook_endpoint(f"{server.url}/webhooks/stripe", WEBHOOK_SECRET)
        with server:
            try:
                yield Loop(qbo=qbo, stripe=stripe, sink=sink, ctx=ctx, url=url)
            finally:
                ctx.db.dispose()
