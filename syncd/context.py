"""What every stage is handed: settings, the store, the clock and the connectors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from syncd.clock import Clock, utcnow
from syncd.config import Settings
from syncd.links import Links
from syncd.ports.email import Mailer
from syncd.ports.quickbooks import QboApp, QuickBooks
from syncd.ports.stripe import Stripe
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.tokens import EncryptedTokenStore


def _no_wake(job: str, realm: str | None) -> None:
    return None


@dataclass
class Context:
    """The daemon's wiring. ``wake(job, realm)`` asks the scheduler to run a job now."""

    settings: Settings
    db: Database
    box: SecretBox
    qbo_factory: Callable[[str], QuickBooks]
    stripe: Stripe
    mailer: Mailer
    qbo_app: QboApp
    clock: Clock = utcnow
    wake: Callable[[str, str | None], None] = _no_wake
    _qbo: dict[str, QuickBooks] = field(default_factory=dict)
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


def token_store(ctx: Context) -> EncryptedTokenStore:
    """The encrypted token store over the context's database (``connect``, the demo, the tests)."""
    return EncryptedTokenStore(ctx.db, ctx.box, clock=ctx.clock)
