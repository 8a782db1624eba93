"""Wiring: settings in, a Context with the real connectors, store and secret box out."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit

from connectors.email.smtp import SmtpMailer
from connectors.quickbooks.application import QboApplication
from connectors.quickbooks.client import QboConnector
from connectors.sms.client import TwilioConnector
from connectors.stripe.client import StripeConnector
from syncd.clock import SIMULATED_CLOCK_ENV, Clock, FileOffsetClock, utcnow
from syncd.config import Settings, StripeAccount
from syncd.context import Context
from syncd.errors import ConfigError
from syncd.ports.quickbooks import QuickBooks
from syncd.ports.sms import Sms
from syncd.ports.stripe import Stripe
from syncd.secrets import SecretBox
from syncd.store import webhook_secret
from syncd.store.engine import Database
from syncd.store.tokens import EncryptedTokenStore

Wake = Callable[[str, str | None], None]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class _StripeNotConfigured:
    """Stands in for the Stripe connector when no key is configured (``status``, ``migrate``):
    commands that never touch Stripe still work, anything that does names the missing setting."""

    def __getattr__(self, name: str) -> NoReturn:
        raise ConfigError("stripe.api_key", "is empty: set it to a secret key (sk_…) to take payments")


def custom_field_of(link_writeback: str) -> str | None:
    """``custom_field:<id>`` → ``<id>``; ``memo`` and ``off`` have none."""
    prefix = "custom_field:"
    return link_writeback[len(prefix) :] if link_writeback.startswith(prefix) else None


def qbo_factory(settings: Settings, tokens: EncryptedTokenStore, clock: Clock) -> Callable[[str], QuickBooks]:
    def build(realm_id: str) -> QuickBooks:
        company = next((c for c in settings.companies if c.realm_id == realm_id), None)
        field_id = custom_field_of(company.link_writeback) if company is not None else None
        return QboConnector(settings.qbo, realm_id, tokens, link_custom_field_id=field_id, clock=clock)

    return build


def sms_factory(settings: Settings) -> Callable[[str], Sms]:
    """A company's Twilio connector, from its ``[company.sms]`` table."""

    def build(realm_id: str) -> Sms:
        sms = settings.company(realm_id).sms
        if not (sms.account_sid and sms.auth_token):
            raise ConfigError(f"company {realm_id} sms", "account_sid and auth_token are needed to text")
        return TwilioConnector(sms.account_sid, sms.auth_token, api_base=sms.api_base)

    return build


def stripe_factory(settings: Settings, stored: Callable[[], str | None]) -> Callable[[StripeAccount], Stripe]:
    """Connectors for the companies' own and connected accounts. A connected account on the
    ``[stripe]`` key is signed for by the platform's endpoint, so it reads the stored secret too."""

    def build(account: StripeAccount) -> Stripe:
        on_platform_key = account.settings.api_key == settings.stripe.api_key
        if not account.settings.api_key:
            realm = account.companies[0]
            raise ConfigError("stripe.api_key", f"is required for the Stripe account of company {realm}")
        return StripeConnector(account.settings, stored_webhook_secret=stored if on_platform_key else None)

    return build


def process_clock(settings: Settings) -> Clock:
    """Real time; against the simulators only, moved by ``SYNCD_SIMULATED_CLOCK_FILE`` (see
    ``syncd.clock``) so end-to-end tests can take ``syncd run`` and the CLI through days. With a
    real QuickBooks it is refused: a moved clock would date real entries and send real reminders
    on the wrong day, so the QBO discovery URL must be on this machine."""
    path = os.environ.get(SIMULATED_CLOCK_ENV)
    if not path:
        return utcnow
    if urlsplit(settings.qbo.environment).hostname not in LOOPBACK:
        raise ConfigError(
            "quickbooks.environment",
            f"{SIMULATED_CLOCK_ENV} is honoured only with the QBO simulator on this machine",
        )
    return FileOffsetClock(path)


def build_context(
    settings: Settings,
    *,
    wake: Wake | None = None,
    clock: Clock | None = None,
    require_stripe: bool = False,
) -> Context:
    """The daemon's wiring. Nothing here talks to the network: connectors connect lazily.

    ``require_stripe`` makes a missing Stripe key a ConfigError up front (``syncd run``).
    """
    clock = clock or process_clock(settings)
    box = SecretBox(settings.secret_key)
    db = Database(settings.database_url)
    tokens = EncryptedTokenStore(db, box, clock=clock)
    stripe: Stripe
    stored = stored_webhook_secret(db, box)
    if settings.stripe.api_key:
        stripe = StripeConnector(settings.stripe, stored_webhook_secret=stored)
    elif require_stripe and not any(a.settings.api_key for a in settings.stripe_accounts()):
        # Every company may have a key of its own; then the [stripe] one is never used.
        raise ConfigError("stripe.api_key", "is required to take payments")
    else:
        stripe = cast(Stripe, _StripeNotConfigured())
    extra: dict[str, Any] = {"wake": wake} if wake is not None else {}
    return Context(
        settings=settings,
        db=db,
        box=box,
        qbo_factory=qbo_factory(settings, tokens, clock),
        stripe=stripe,
        mailer=SmtpMailer(settings.smtp),
        qbo_app=QboApplication(settings.qbo),
        clock=clock,
        stripe_factory=stripe_factory(settings, stored),
        sms_factory=sms_factory(settings),
        **extra,
    )


def stored_webhook_secret(db: Database, box: SecretBox) -> Callable[[], str | None]:
    """The secret ``syncd connect stripe`` stored, read when a webhook arrives (so a new one
    is used without a restart)."""

    def read() -> str | None:
        stored = webhook_secret.load(db, box)
        return stored.secret if stored is not None else None

    return read


def check_stripe_key(settings: Settings) -> None:
    """Try each configured account's key with one request (``syncd run``'s start check), then close."""
    for account in settings.stripe_accounts():
        if account.settings.api_key:
            with StripeConnector(account.settings) as stripe:
                stripe.check_key()
