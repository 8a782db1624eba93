"""Reading a company: the batched initial pull and the CDC incremental pull."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from connectors.quickbooks.errors import error_for_fault, fault_from_json
from connectors.quickbooks.mapping import (
    Json,
    format_time,
    is_deleted,
    is_voided,
    parse_amount,
    query_count,
    query_rows,
    response_time,
    to_customer,
    to_invoice,
)
from connectors.quickbooks.sdk import SdkCalls
from syncd.domain import Customer, Invoice, QboChanges, QboPaymentState
from syncd.errors import PermanentError

PAGE_SIZE = 1000  # QBO's MAXRESULTS ceiling
# Pages fetched per batch call on the first pull: 5,000 rows bound memory (flat whatever the
# company's size) and 10,000 invoices still cost 4 requests.
PAGES_PER_BATCH = 5
CDC_ENTITIES = ("Invoice", "Customer", "Payment", "CreditMemo")
CDC_WINDOW = timedelta(days=30)
CDC_MAX_ROWS = 1000
# Customers first, so every invoice's customer is already known when its page is stored.
PULL_ENTITIES = ("Customer", "Invoice")


def batch_items(response: Json) -> dict[str, Json]:
    """Batch answers by bId; QBO does not promise to keep the request order."""
    items = response.get("BatchItemResponse") or []
    return {str(item.get("bId")): item for item in items if isinstance(item, dict)}


def _item(items: dict[str, Json], bid: str) -> Json:
    item = items.get(bid)
    if item is None:
        raise PermanentError(f"QBO batch answer lacks item {bid}")
    fault = fault_from_json(item)
    if fault is not None:
        raise error_for_fault(fault)
    return item


def _page_query(entity: str, start: int) -> str:
    return f"SELECT * FROM {entity} ORDERBY Id STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"  # noqa: S608


def _count_query(entity: str) -> str:
    return f"SELECT COUNT(*) FROM {entity}"  # noqa: S608 - QBO query language, constant entity names


def initial_pull(
    calls: SdkCalls, home_currency: str, *, clock: Callable[[], datetime]
) -> Iterator[QboChanges]:
    """COUNT both entities in one batch call, then fetch PAGES_PER_BATCH pages per batch call.

    Only the last page carries ``as_of`` (QBO's clock at the COUNT call), so a caller that stores
    the cursor with each page never skips pages after a crash.
    """
    started = clock()
    counted = calls.batch([{"bId": f"count-{e}", "Query": _count_query(e)} for e in PULL_ENTITIES], None)
    as_of = response_time(counted) or started
    items = batch_items(counted)
    pages = [
        (entity, start)
        for entity in PULL_ENTITIES
        for start in range(1, query_count(_item(items, f"count-{entity}")) + 1, PAGE_SIZE)
    ]
    if not pages:
        yield QboChanges(as_of=as_of)
        return
    for first in range(0, len(pages), PAGES_PER_BATCH):
        chunk = pages[first : first + PAGES_PER_BATCH]
        # Each page is decoded, mapped and handed on before the next one is decoded, and only
        # its domain rows outlive that: the raw JSON of a page is dropped as soon as it is mapped.
        wanted = {f"{e}-{s}": (first + offset, e) for offset, (e, s) in enumerate(chunk)}
        early: dict[int, QboChanges] = {}
        position = first
        for item in calls.batch_items([{"bId": f"{e}-{s}", "Query": _page_query(e, s)} for e, s in chunk]):
            bid = str(item.get("bId"))
            if bid not in wanted:
                continue
            index, entity = wanted.pop(bid)
            rows = query_rows(_item({bid: item}, bid), entity)
            del item
            last = index == len(pages) - 1
            early[index] = _changes(entity, rows, home_currency, as_of=as_of if last else None)
            del rows
            # QBO does not promise the request order: pages are handed on in order all the same.
            while position in early:
                yield early.pop(position)
                position += 1
        if wanted:
            raise PermanentError(f"QBO batch answer lacks item {next(iter(wanted))}")


def _changes(entity: str, rows: list[Json], home_currency: str, *, as_of: datetime | None) -> QboChanges:
    invoices: list[Invoice] = []
    customers: list[Customer] = []
    skipped = 0
    for row in rows:
        try:
            if entity == "Invoice":
                invoices.append(to_invoice(row, home_currency=home_currency))
            else:
                customers.append(to_customer(row, home_currency=home_currency))
        except PermanentError:
            # One malformed row must not stop the pull; the caller sees the count.
            skipped += 1
    return QboChanges(invoices=tuple(invoices), customers=tuple(customers), as_of=as_of, skipped=skipped)


def changes_since(
    calls: SdkCalls, since: datetime, until: datetime, home_currency: str, *, now: datetime
) -> QboChanges:
    """One CDC call. Rows changed after ``until`` may come back too (harmless: the cursor
    overlaps and rows are deduplicated); ``as_of`` is ``until``, or QBO's own clock when that is
    behind ours, so a fast local clock cannot skip changes."""
    if since < now - CDC_WINDOW:
        raise PermanentError("QBO change data capture covers 30 days only: do a full pull")
    answer = calls.cdc(",".join(CDC_ENTITIES), format_time(since))
    qbo_time = response_time(answer)
    return changes_from_cdc(answer, home_currency, as_of=min(until, qbo_time) if qbo_time else until)


def cdc_rows(answer: Json) -> dict[str, list[Json]]:
    out: dict[str, list[Json]] = {}
    for block in answer.get("CDCResponse") or []:
        for response in (block or {}).get("QueryResponse") or []:
            for entity, rows in (response or {}).items():
                if isinstance(rows, list):
                    out.setdefault(entity, []).extend(r for r in rows if isinstance(r, dict))
    return out


def changes_from_cdc(answer: Json, home_currency: str, *, as_of: datetime | None) -> QboChanges:
    rows = cdc_rows(answer)
    invoices = [r for r in rows.get("Invoice", []) if not is_deleted(r)]
    customers = [r for r in rows.get("Customer", []) if not is_deleted(r)]
    base_inv = _changes("Invoice", invoices, home_currency, as_of=None)
    base_cus = _changes("Customer", customers, home_currency, as_of=None)
    return QboChanges(
        invoices=base_inv.invoices,
        customers=base_cus.customers,
        deleted_invoice_ids=tuple(str(r["Id"]) for r in rows.get("Invoice", []) if is_deleted(r)),
        deleted_customer_ids=tuple(str(r["Id"]) for r in rows.get("Customer", []) if is_deleted(r)),
        payment_ids=tuple(str(r["Id"]) for r in rows.get("Payment", []) if "Id" in r),
        payments=tuple(payment_state(r) for r in rows.get("Payment", []) if "Id" in r),
        as_of=as_of,
        skipped=base_inv.skipped + base_cus.skipped,
        # CDC has no paging: a full entity list may be truncated; the caller should re-pull.
        truncated=any(len(v) >= CDC_MAX_ROWS for v in rows.values()),
    )


def payment_state(row: Json) -> QboPaymentState:
    """What a CDC Payment row says: a deleted stub, or its total and the invoices it is applied to."""
    if is_deleted(row):
        return QboPaymentState(qbo_id=str(row["Id"]), deleted=True)
    invoices: list[str] = []
    for line in row.get("Line") or []:
        for linked in (line or {}).get("LinkedTxn") or []:
            if (linked or {}).get("TxnType") == "Invoice" and linked.get("TxnId") is not None:
                invoices.append(str(linked["TxnId"]))
    return QboPaymentState(
        qbo_id=str(row["Id"]),
        voided=is_voided(row),
        total=parse_amount(row.get("TotalAmt")),
        invoice_ids=tuple(dict.fromkeys(invoices)),
    )


def deleted_ids_from_cdc_xml(body: bytes) -> dict[str, list[str]]:
    """Deleted entity ids of an XML CDC answer (syncd asks for JSON; this reads archived XML)."""
    ns = "{http://schema.intuit.com/finance/v3}"
    root = ET.fromstring(body)  # noqa: S314 - vendor body, stdlib parser fetches nothing
    out: dict[str, list[str]] = {}
    for response in root.iter(f"{ns}QueryResponse"):
        for node in response:
            if node.get("status", "").lower() == "deleted":
                ident = node.find(f"{ns}Id")
                if ident is not None and ident.text:
                    out.setdefault(node.tag.removeprefix(ns), []).append(ident.text.strip())
    return out
