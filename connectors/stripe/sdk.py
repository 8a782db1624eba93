"""The stripe SDK client every Stripe connector talks through: version, base address, retries, pool."""

from __future__ import annotations

import requests
import stripe

from syncd.ports.stripe import StripeSettings


def open_client(
    settings: StripeSettings, http_client: stripe.HTTPClient | None, timeout: float
) -> tuple[stripe.StripeClient, requests.Session | None]:
    """A client for ``settings``; with no ``http_client``, one on a connection pool of its own,
    returned so its owner can close it (a passed client is the caller's to close)."""
    session: requests.Session | None = None
    if http_client is None:
        session = requests.Session()
        http_client = stripe.RequestsClient(timeout=timeout, session=session)
    client = stripe.StripeClient(
        settings.api_key,
        stripe_account=settings.stripe_account,
        stripe_version=settings.api_version,
        base_addresses={"api": settings.api_base} if settings.api_base else None,
        max_network_retries=settings.max_network_retries,
        http_client=http_client,
    )
    return client, session
