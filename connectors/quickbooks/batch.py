"""One QBO batch call of up to 30 creates, answered item by item in the items' order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connectors.quickbooks import pull, writes
from connectors.quickbooks.errors import error_for_fault, fault_from_json
from connectors.quickbooks.mapping import Json
from connectors.quickbooks.sdk import SdkCalls
from syncd.domain import QboEntryRef, QboPaymentDraft, QboPurchaseDraft, QboTransferDraft
from syncd.errors import PermanentError, SyncdError
from syncd.ports.quickbooks import BATCH_ITEMS, WriteItem


def write_batch(
    calls: SdkCalls,
    items: Sequence[WriteItem],
    *,
    request_id: str | None,
    refund_item: Callable[[str], str],
) -> list[QboEntryRef | SyncdError]:
    """One batch call for up to 30 creates. QBO has no per-item requestid: the call carries
    ``request_id`` (by default one derived from all item keys), so replaying the same batch is
    idempotent, but the same item re-sent in a differently composed batch is not.
    ``refund_item`` gives the refund item of an income account (a refund's line needs one)."""
    if len(items) > BATCH_ITEMS:
        raise PermanentError(f"QBO batch takes at most {BATCH_ITEMS} items, got {len(items)}")
    if not items:
        return []
    requests_: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        entity = writes.entity_name(item.draft)
        requests_.append({"bId": f"b{index}", "operation": "create", entity: _body(item, refund_item)})
    key = writes.qbo_request_id(request_id or "batch:" + "|".join(i.request_id for i in items))
    answer = pull.batch_items(calls.batch(requests_, key))
    results: list[QboEntryRef | SyncdError] = []
    for index, item in enumerate(items):
        got = answer.get(f"b{index}")
        if got is None:
            results.append(PermanentError("QBO batch answer lacks this item"))
            continue
        fault = fault_from_json(got)
        if fault is not None:
            results.append(error_for_fault(fault))
            continue
        try:
            results.append(writes.entry_ref(got, writes.entity_name(item.draft)))
        except PermanentError as exc:
            results.append(exc)
    return results


def _body(item: WriteItem, refund_item: Callable[[str], str]) -> Json:
    draft = item.draft
    if isinstance(draft, QboPaymentDraft):
        return writes.payment_body(draft)
    if isinstance(draft, QboPurchaseDraft):
        return writes.purchase_body(draft)
    if isinstance(draft, QboTransferDraft):
        return writes.transfer_body(draft)
    return writes.refund_body(draft, item_id=refund_item(draft.income_account_id))
