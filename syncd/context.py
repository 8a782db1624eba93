"""What every stage is handed: settings, the store, the clock and the connectors."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from syncd.clock import Clock, utcnow
from syncd.config import DEFAULT_ACCOUNT, Settings, StripeAccount, account_of
from syncd.links import Links
from syncd.ports.email import Mailer
from syncd.ports.quickbooks import QboApp, QuickBooks
from syncd.ports.sms import Sms
from syncd.ports.stripe import Stripe
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.tokens import EncryptedTokenStore


def _no_wake(job: str, realm: str | None) -> None:
    return None


def _no_stripe_factory(account: StripeAccount) -> Stripe:
    raise LookupError(f"no Stripe connector can be built for account {account.key}")


def _no_sms_factory(realm_id: str) -> Sms:
    raise LookupError(f"no SMS connector can be built for company {realm_id}")


@dataclass
class Context:
    """The daemon's wiring. ``wake(job, realm)`` asks the scheduler to run a job now.

    ``stripe`` is the ``[stripe]`` account; ``stripe_for(realm)`` the one a company is paid into
    (built by ``stripe_factory`` once per account). The worker hands each effect's handler
    ``for_company(realm)``, whose ``stripe`` is that company's account.
    """

    settings: Settings
    db: Database
    box: SecretBox
    qbo_factory: Callable[[str], QuickBooks]
    stripe: Stripe
    mailer: Mailer
    qbo_app: QboApp
    clock: Clock = utcnow
    wake: Callable[[str, str | None], None] = _no_wake
    stripe_factory: Callable[[StripeAccount], Stripe] = _no_stripe_factory
    sms_factory: Callable[[str], Sms] = _no_sms_factory
    _qbo: dict[str, QuickBooks] = field(default_factory=dict)
    _sms: dict[str, Sms] = field(default_factory=dict)
    _stripe: dict[str, Stripe] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def links(self) -> Links:
        return Links(self.box.purpose_key("portal-links"), self.settings.public_url)

    def built_qbo(self) -> dict[str, QuickBooks]:
        """The company connectors built so far (a copy); building one would reach for the network."""
        with self._lock:
            return dict(self._qbo)

    def qbo(self, realm_id: str) -> QuickBooks:
        """One connector per company, shared by all jobs so its rate limits are per company."""
        with self._lock:
            client = self._qbo.get(realm_id)
            if client is None:
                client = self._qbo[realm_id] = self.qbo_factory(realm_id)
            return client

    def sms(self, realm_id: str) -> Sms:
        """The company's texting connector (its ``[company.sms]`` account), built on first use."""
        with self._lock:
            client = self._sms.get(realm_id)
            if client is None:
                client = self._sms[realm_id] = self.sms_factory(realm_id)
            return client

    def stripe_accounts(self) -> tuple[StripeAccount, ...]:
        return self.settings.stripe_accounts()

    def stripe_account(self, realm_id: str | None) -> StripeAccount:
        """The account ``realm_id`` is paid into (the ``[stripe]`` one for None or an unknown one)."""
        return account_of(self.stripe_accounts(), realm_id)

    def stripe_account_named(self, key: str | None) -> StripeAccount | None:
        """The account ``StripeEvent.account`` names (None: the ``[stripe]`` one); None for an
        account no company is paid into."""
        return next((a for a in self.stripe_accounts() if a.key == (key or DEFAULT_ACCOUNT)), None)

    def stripe_of(self, account: StripeAccount) -> Stripe:
        """The connector of one account, shared by all jobs (built on first use)."""
        if account.key == DEFAULT_ACCOUNT:
            return self.stripe
        with self._lock:
            client = self._stripe.get(account.key)
            if client is None:
                client = self._stripe[account.key] = self.stripe_factory(account)
            return client

    def stripe_for(self, realm_id: str | None) -> Stripe:
        """The Stripe connector of the account ``realm_id`` is paid into."""
        return self.stripe_of(self.stripe_account(realm_id))

    def for_company(self, realm_id: str | None) -> Context:
        """This context with ``stripe`` being the company's account, found on first use (a
        handler that never calls Stripe never looks); connectors, lock and wake are shared."""
        return dataclasses.replace(
            self, stripe=cast(Stripe, _CompanyStripe(lambda: self.stripe_for(realm_id)))
        )


class _CompanyStripe:
    """A company's Stripe connector, resolved when first called."""

    def __init__(self, find: Callable[[], Stripe]) -> None:
        self._find = find
        self._found: Stripe | None = None

    def __getattr__(self, name: str) -> Any:
        if self._found is None:
            self._found = self._find()
        return getattr(self._found, name)


def token_store(ctx: Context) -> EncryptedTokenStore:
    """The encrypted token store over the context's database (``connect``, the demo, the tests)."""
    return EncryptedTokenStore(ctx.db, ctx.box, clock=ctx.clock)
