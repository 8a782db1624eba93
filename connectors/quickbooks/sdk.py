"""python-quickbooks bound to one company, with every call routed through syncd's transport."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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

    def batch_items(self, items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """A batch call's answers one item at a time, each decoded only when it is reached: a batch
        of 5 query pages is never one object graph in memory (the first pull's peak)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        params = {"minorversion": str(self.qb.minorversion)}
        data = dumps({"BatchItemRequest": items})
        url = self._url("batch")
        body = self.qb.transport.send("POST", url, headers=headers, params=params, data=data).text
        yield from answer_items(body)

    def cdc(self, entities: str, changed_since: str) -> dict[str, Any]:
        return _as_dict(self.qb.change_data_capture(entities, changed_since))

    def pdf(self, entity: str, entity_id: str) -> bytes:
        return cast(bytes, self.qb.download_pdf(entity, entity_id))


_DECODER = json.JSONDecoder(parse_float=Decimal)
_ITEMS = re.compile(r'"BatchItemResponse"\s*:\s*\[\s*')
_NEXT = re.compile(r"\s*(,|\])\s*")


def answer_items(body: str) -> Iterator[dict[str, Any]]:
    """The items of a batch answer's ``BatchItemResponse``, decoded one after another."""
    opening = _ITEMS.search(body)
    if opening is None:
        # A Fault, or a shape this reader does not know: decode it whole.
        whole = _as_dict(_DECODER.decode(body))
        if "Fault" in whole:
            raise PermanentError(f"QBO refused the batch call: {str(whole['Fault'])[:500]}")
        yield from (item for item in whole.get("BatchItemResponse") or [] if isinstance(item, dict))
        return
    at = opening.end()
    while at < len(body) and body[at] != "]":
        try:
            item, at = _DECODER.raw_decode(body, at)
        except ValueError:
            raise PermanentError("QBO answered a batch call with a malformed body") from None
        if isinstance(item, dict):
            # Handed over in a box so this frame does not keep the page alive while suspended.
            box = [item]
            del item
            yield box.pop()
        separator = _NEXT.match(body, at)
        if separator is None:
            raise PermanentError("QBO answered a batch call with a malformed body")
        at = separator.end() if separator.group(1) == "," else len(body)


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
