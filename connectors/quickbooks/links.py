"""The payment link written back onto QBO invoices: the sparse change, and 30 of them per batch call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connectors.quickbooks import pull, writes
from connectors.quickbooks.errors import error_for_fault, fault_from_json
from connectors.quickbooks.sdk import SdkCalls
from connectors.quickbooks.transport import bulk
from syncd.domain import QboEntryRef
from syncd.errors import PermanentError, StaleObjectError, SyncdError
from syncd.ports.quickbooks import BATCH_ITEMS, LinkWrite

Json = dict[str, Any]
MEMO_MAX = 1000  # QBO CustomerMemo limit
LINK_PREFIX = "Pay online: "
Reread = Callable[[str, str], QboEntryRef]


def link_fields(memo: str | None, custom_fields: list[Json], url: str, field_id: str | None) -> Json | None:
    """The sparse fields that put ``url`` on an invoice, or None when it is already there."""
    if field_id is not None:
        for field in custom_fields:
            if str(field.get("DefinitionId")) == field_id and field.get("StringValue") == url:
                return None
        return {"CustomField": [{"DefinitionId": field_id, "Type": "StringType", "StringValue": url}]}
    memo = memo or ""
    if url in memo:
        return None
    line = LINK_PREFIX + url
    new = f"{memo}\n\n{line}" if memo else line
    return {"CustomerMemo": {"value": new if len(new) <= MEMO_MAX else line[:MEMO_MAX]}}


def write_links(
    calls: SdkCalls,
    items: Sequence[LinkWrite],
    *,
    request_id: str,
    field_id: str | None,
    reread: Reread,
) -> list[QboEntryRef | SyncdError]:
    """One batch call of sparse updates built from what the mirror knows (no read first), under
    one ``requestid``: the same items give the same call, so a retry after a crash is replayed,
    never applied twice. An item QBO refuses as stale (5010) is re-read and written alone by
    ``reread(invoice_id, item_request_id)``. One result per item, in order."""
    if len(items) > BATCH_ITEMS:
        raise PermanentError(f"QBO batch takes at most {BATCH_ITEMS} items, got {len(items)}")
    results: list[QboEntryRef | SyncdError | None] = [None] * len(items)
    requests_: list[Json] = []
    for index, item in enumerate(items):
        fields = link_fields(item.memo, [], item.url, field_id)
        if fields is None:
            results[index] = QboEntryRef("Invoice", item.invoice_id, item.sync_token)
            continue
        body = {"Id": item.invoice_id, "SyncToken": item.sync_token, "sparse": True, **fields}
        requests_.append({"bId": f"l{index}", "operation": "update", "Invoice": body})
    answer: dict[str, Json] = {}
    if requests_:
        with bulk():
            answer = pull.batch_items(calls.batch(requests_, writes.qbo_request_id(request_id)))
    for index, item in enumerate(items):
        if results[index] is not None:
            continue
        got = answer.get(f"l{index}")
        if got is None:
            results[index] = PermanentError("QBO batch answer lacks this invoice")
            continue
        fault = fault_from_json(got)
        if fault is None:
            try:
                results[index] = writes.entry_ref(got, "Invoice")
            except PermanentError as exc:
                results[index] = exc
            continue
        error = error_for_fault(fault)
        if isinstance(error, StaleObjectError):
            try:
                with bulk():
                    results[index] = reread(item.invoice_id, f"{request_id}:{item.invoice_id}")
            except SyncdError as exc:
                results[index] = exc
            continue
        results[index] = error
    return [result if result is not None else PermanentError("no result") for result in results]
