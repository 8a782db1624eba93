"""The Stripe connector's base: one account's SDK client, its retries and idempotency options."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self, TypeVar

import stripe

from connectors.stripe import idempotency
from connectors.stripe.sdk import open_client
from connectors.stripe.throttle import call
from syncd.errors import ConfigError
from syncd.ports.stripe import StripeSettings

T = TypeVar("T")

PAGE = 100
INTENT_EXPAND = ["latest_charge.balance_transaction", "payment_method"]


def _clock() -> datetime:
    return datetime.now(UTC)


class StripeSession:
    """One Stripe account's SDK client and connection pool, with the connector's retries.

    ``http_client`` and ``sleep`` exist so tests can avoid real back-off waits.
    """

    def __init__(
        self,
        settings: StripeSettings,
        *,
        http_client: stripe.HTTPClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        if not settings.api_key:
            raise ConfigError("stripe.api_key", "is empty: set it to a secret key (sk_…)")
        self._settings = settings
        self._sleep = sleep
        self._client, self._session = open_client(settings, http_client, timeout)

    def close(self) -> None:
        """Close the connection pool this connector opened (a passed ``http_client`` is the caller's)."""
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, fn: Callable[[], T]) -> T:
        return call(fn, retries=self._settings.max_network_retries, sleep=self._sleep)


class StripeBase(StripeSession):
    """One Stripe account over HTTP; the same code path for real Stripe and the simulator.

    ``clock`` decides whether an idempotency key may have expired. ``stored_webhook_secret`` is
    asked for the signing secret at each webhook while ``settings.webhook_secret`` is empty
    (``syncd connect stripe``).
    """

    def __init__(
        self,
        settings: StripeSettings,
        *,
        http_client: stripe.HTTPClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _clock,
        timeout: float = 30.0,
        stored_webhook_secret: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(settings, http_client=http_client, sleep=sleep, timeout=timeout)
        self._stored_webhook_secret = stored_webhook_secret
        self._clock = clock

    def check_key(self) -> None:
        self._call(lambda: self._client.v1.balance.retrieve())

    def _options(self, idempotency_key: str) -> stripe.RequestOptions:
        return {"idempotency_key": idempotency.wire_key(idempotency_key)}
