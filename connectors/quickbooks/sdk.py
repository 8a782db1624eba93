"""python-quickbooks bound to one company, with every call routed through syncd's transport."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, cast

from quickbooks.client import QuickBooks

from connectors.quickbooks.transport import QboTransport
from syncd.errors import PermanentError
from syncd.ports.quickbooks import QboSettings


class SyncdQuickBooks(QuickBooks):  # type: ignore[misc]
    """The SDK client with its transport replaced.

    python-quickbooks sends through an oauthlib session that refuses plain http:// and never
    refreshes; overriding ``process_request`` keeps the SDK's URL building, ``minorversion``,
    ``requestid`` and Fault handling while the wire goes through :class:`QboTransport`.
    """

    transport: QboTransport

    def process_request(
        self, request_type: str, url: str, headers: Any = "", params: Any = "", data: Any = ""
    ) -> Any:
        return self.transport.send(
            request_type,
            url,
            headers=dict(headers or {}),
            params=dict(params or {}),
            data=data if data else None,
        )


def make_sdk(settings: QboSettings, realm_id: str, transport: QboTransport) -> SyncdQuickBooks:
    qb = SyncdQuickBooks(company_id=realm_id, minorversion=settings.minorversion, use_decimal=True)
    qb.api_url_v3 = settings.api_base_url.rstrip("/")
    qb.sandbox = False
    qb.transport = transport
    # The SDK only checks that a session exists; requests never use it.
    qb.session = transport.session
    return qb


class SdkCalls:
    """The SDK calls the connector makes, returning plain JSON dicts (never SDK objects)."""

    def __init__(self, qb: SyncdQuickBooks) -> None:
        self.qb = qb

    def _url(self, tail: str) -> str:
        return f"{self.qb.api_url}/company/{self.qb.company_id}/{tail}"

    def get(self, entity: str, entity_id: str) -> dict[str, Any]:
        return _as_dict(self.qb.get_single_object(entity, entity_id))

    def query(self, select: str) -> dict[str, Any]:
        return _as_dict(self.qb.query(select))

    def create(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        return _as_dict(self.qb.create_object(entity, dumps(body), request_id=request_id))

    def update(
        self, entity: str, body: dict[str, Any], request_id: str, *, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return _as_dict(self.qb.update_object(entity, dumps(body), request_id=request_id, params=params))

    def batch(self, items: list[dict[str, Any]], request_id: str | None) -> dict[str, Any]:
        # The SDK's batch_operation takes no requestid; its generic post does.
        return _as_dict(
            self.qb.post(self._url("batch"), dumps({"BatchItemRequest": items}), request_id=request_id)
        )

    def cdc(self, entities: str, changed_since: str) -> dict[str, Any]:
        return _as_dict(self.qb.change_data_capture(entities, changed_since))

    def pdf(self, entity: str, entity_id: str) -> bytes:
        return cast(bytes, self.qb.download_pdf(entity, entity_id))


def _as_dict(result: object) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise PermanentError("QBO answered with an unexpected body")
    return result


def dumps(value: object) -> str:
    """JSON with Decimal written as a number literal exactly as it is (``100.00`` stays ``100.00``)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("refusing to send a float amount to QBO")
    return json.dumps(value)
