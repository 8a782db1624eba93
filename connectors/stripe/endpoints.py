"""Stripe's WebhookEndpoints API on the official SDK (``protocol.WebhookEndpointAdmin``): list,
create (its ``whsec_`` secret is answered once, on create), update and delete. Stripe objects
never come out."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar, cast

import stripe

from connectors.stripe.base import StripeSession
from syncd.ports.stripe import WebhookEndpoint

T = TypeVar("T")

# How syncd recognises its own endpoint among an account's others, whatever its URL is now.
MANAGED_BY = ("managed_by", "syncd")
DESCRIPTION = "syncd: payments booked into QuickBooks"


def _endpoint(obj: dict[str, Any]) -> WebhookEndpoint:
    metadata = obj.get("metadata") or {}
    secret = obj.get("secret")
    return WebhookEndpoint(
        id=str(obj["id"]),
        url=str(obj["url"]),
        enabled_events=tuple(str(e) for e in obj.get("enabled_events") or ()),
        enabled=obj.get("status") == "enabled",
        managed=metadata.get(MANAGED_BY[0]) == MANAGED_BY[1],
        secret=str(secret) if secret else None,
    )


class WebhookEndpoints(StripeSession):
    """``WebhookEndpointAdmin`` for one Stripe account (``settings.api_base`` for the simulator)."""

    @staticmethod
    def _once() -> stripe.RequestOptions:
        # Retries of this one request are safe; a later run finds the endpoint by URL or metadata.
        return {"idempotency_key": f"syncd-webhook-endpoint-{uuid.uuid4()}"}

    def list(self) -> list[WebhookEndpoint]:
        """Every endpoint of the account (all pages); the first call also proves the key works."""

        def fetch() -> list[dict[str, Any]]:
            pages = self._client.v1.webhook_endpoints.list({"limit": 100})
            return [item.to_dict() for item in pages.auto_paging_iter()]

        return [_endpoint(obj) for obj in self._call(fetch)]

    def create(self, url: str, events: Sequence[str]) -> WebhookEndpoint:
        """A new enabled endpoint marked as syncd's; the result carries its signing secret."""
        params: stripe.params.WebhookEndpointCreateParams = {
            "url": url,
            "enabled_events": cast(Any, list(events)),
            "description": DESCRIPTION,
            "metadata": {MANAGED_BY[0]: MANAGED_BY[1]},
            "api_version": cast(Any, self._settings.api_version),
        }
        created = self._call(lambda: self._client.v1.webhook_endpoints.create(params, self._once()))
        return _endpoint(created.to_dict())

    def update(self, endpoint_id: str, url: str, events: Sequence[str]) -> WebhookEndpoint:
        """Point an endpoint at ``url`` with exactly ``events``, enabled and marked as syncd's."""
        params: stripe.params.WebhookEndpointUpdateParams = {
            "url": url,
            "enabled_events": cast(Any, list(events)),
            "disabled": False,
            "description": DESCRIPTION,
            "metadata": {MANAGED_BY[0]: MANAGED_BY[1]},
        }
        updated = self._call(
            lambda: self._client.v1.webhook_endpoints.update(endpoint_id, params, self._once())
        )
        return _endpoint(updated.to_dict())

    def delete(self, endpoint_id: str) -> None:
        self._call(lambda: self._client.v1.webhook_endpoints.delete(endpoint_id))
