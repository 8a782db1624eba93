"""Sparse updates of a QBO entity: read it, change it, write it; a stale SyncToken retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from connectors.quickbooks import writes
from connectors.quickbooks.errors import QboNotFoundError
from connectors.quickbooks.mapping import Json, is_deleted
from connectors.quickbooks.reads import read_entity
from connectors.quickbooks.sdk import SdkCalls
from syncd.domain import QboEntryRef
from syncd.errors import StaleObjectError

MAX_STALE_RETRIES = 3

T = TypeVar("T")


def retry_stale(request_id: str, attempt: Callable[[str], T]) -> T:
    """Run ``attempt`` (read, change, write under the requestid it is handed); a stale SyncToken
    (5010) runs it again, reading afresh, up to MAX_STALE_RETRIES times. Each retry gets its own
    requestid: QBO may replay the stored stale answer for the first one."""
    for retry in range(MAX_STALE_RETRIES + 1):
        key = request_id if retry == 0 else f"{request_id}#stale{retry}"
        try:
            return attempt(key)
        except StaleObjectError:
            if retry == MAX_STALE_RETRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def update_with_retry(
    calls: SdkCalls,
    entity: str,
    entity_id: str,
    request_id: str,
    change: Callable[[Json], Json | None],
    *,
    params: dict[str, str] | None = None,
) -> QboEntryRef:
    """Read the entity, apply ``change`` (None: nothing to do), write it; a stale SyncToken
    (5010) re-reads and retries (``retry_stale``)."""

    def attempt(key: str) -> QboEntryRef:
        current = read_entity(calls, entity, entity_id)
        if current is None or is_deleted(current):
            raise QboNotFoundError(f"QBO {entity} {entity_id} does not exist")
        fields = change(current)
        if fields is None:
            return QboEntryRef(entity, str(current["Id"]), str(current.get("SyncToken", "0")))
        body = {"Id": current["Id"], "SyncToken": current.get("SyncToken", "0"), "sparse": True, **fields}
        answer = calls.update(entity, body, writes.qbo_request_id(key), params=params)
        return writes.entry_ref(answer, entity)

    return retry_stale(request_id, attempt)
