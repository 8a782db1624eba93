"""The v3 accounting API behind ``/v3/company/{realm}/...``: entity calls, query, CDC, batch and PDF."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.quickbooks.simulator import reads, recurring
from connectors.quickbooks.simulator.company import SimCompany
from connectors.quickbooks.simulator.faults import Faults
from connectors.quickbooks.simulator.pdf import invoice_pdf
from connectors.quickbooks.simulator.store import canonical_entity
from connectors.quickbooks.simulator.wire import (
    QboFault,
    loads,
    response_time,
    stale_object,
    unknown_route,
    validation,
)

BATCH_MAX_ITEMS = 30
_BATCH_OPERATIONS = ("create", "update", "delete", "void")


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: JSON ``payload`` (``time`` added on the way out) or raw ``raw`` bytes."""

    status: int
    kind: str  # read | write | batch: which counter the call lands in
    payload: dict[str, Any] | None = None
    raw: bytes | None = None
    media_type: str = "application/json"


def writes_in_batch(body: bytes) -> bool:
    """Whether a batch call's body holds any write (the simulator counts those apart, as
    ``batch_write``: a batch of queries only reads)."""
    try:
        items = loads(body).get("BatchItemRequest")
    except (ValueError, AttributeError):
        return False
    return isinstance(items, list) and any(isinstance(i, dict) and "Query" not in i for i in items)


def kind_of(method: str, tail: list[str]) -> str:
    if tail and tail[0].lower() == "batch":
        return "batch"
    if method == "GET" or (tail and tail[0].lower() == "query"):
        return "read"
    return "write"


def _entity_write(
    company: SimCompany, name: str, operation: str | None, include: str | None, body: Any, faults: Faults
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation(
            f"The request body must be a {name} object",
            code="2010",
            message="Request has invalid or unsupported property",
        )
    books = company.books
    has_id = body.get("Id") not in (None, "")
    if has_id and operation in ("delete", "void", "update", None) and faults.take_stale():
        raise stale_object(name)
    if operation == "delete":
        return books.delete(name, body)
    if operation == "void" or (operation == "update" and include == "void"):
        return books.void(name, body)
    if operation not in (None, "create", "update"):
        raise validation(
            f"Unsupported operation {operation!r}",
            code="2010",
            message="Request has invalid or unsupported property",
        )
    if has_id:
        return books.update(name, body)
    return books.create(name, body)


def _template_write(
    company: SimCompany, params: Mapping[str, str], body: Any, faults: Faults
) -> dict[str, Any]:
    templates = company.recurring
    row = recurring.unwrap(body)
    has_id = row.get("Id") not in (None, "")
    if has_id and faults.take_stale():
        raise stale_object(recurring.NAME)
    operation = params.get("operation")
    if operation == "delete":
        return templates.delete(row)
    if operation not in (None, "create", "update"):
        raise validation(f"Unsupported operation {operation!r}", code="2010")
    return templates.update(row) if has_id else templates.create(row)


def _read(company: SimCompany, tail: list[str], params: Mapping[str, str]) -> Reply:
    head = tail[0].lower()
    state = company.state
    if head == "companyinfo":
        return Reply(200, "read", {"CompanyInfo": state.company_info})
    if head == "preferences":
        return Reply(200, "read", {"Preferences": state.preferences})
    if head == "query":
        return Reply(200, "read", {"QueryResponse": reads.run_query(state, params.get("query", ""))})
    if head == "cdc":
        since = params.get("changedSince")
        if not since:
            raise validation("changedSince is required", code="2020")
        return Reply(
            200,
            "read",
            reads.change_data_capture(state, params.get("entities", ""), since, company.books.now()),
        )
    name = canonical_entity(head)
    if name is None or len(tail) not in (2, 3):
        raise unknown_route("/" + "/".join(tail))
    if len(tail) == 3:
        if tail[2].lower() != "pdf" or name not in ("Invoice", "CreditMemo", "SalesReceipt", "RefundReceipt"):
            raise unknown_route("/" + "/".join(tail))
        row = company.books.read(name, tail[1])
        return Reply(
            200,
            "read",
            raw=invoice_pdf(row, str(state.company_info["CompanyName"])),
            media_type="application/pdf",
        )
    row = company.books.read(name, tail[1])
    return Reply(200, "read", {name: recurring.wrap(row) if name == recurring.NAME else row})


def _batch(company: SimCompany, body: Any, faults: Faults) -> Reply:
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise validation("BatchItemRequest is required", code="2020")
    if len(items) > BATCH_MAX_ITEMS:
        raise QboFault(
            400,
            "6000",
            "A business validation error has occurred while processing your request",
            f"Business Validation Error: Maximum number of batch items exceeded: "
            f"{len(items)} > {BATCH_MAX_ITEMS}",
            element=None,
        )
    out: list[dict[str, Any]] = []
    for item in items:
        bid = str(item.get("bId", "")) if isinstance(item, dict) else ""
        try:
            if not isinstance(item, dict):
                raise validation("Batch items must be objects", code="2010")
            out.append({**_batch_item(company, item, faults), "bId": bid})
        except QboFault as fault:
            out.append({"Fault": fault.fault(), "bId": bid})
    return Reply(200, "batch", {"BatchItemResponse": out})


def _batch_item(company: SimCompany, item: dict[str, Any], faults: Faults) -> dict[str, Any]:
    if "Query" in item:
        return {"QueryResponse": reads.run_query(company.state, str(item["Query"]))}
    operation = str(item.get("operation", "create")).lower()
    if operation not in _BATCH_OPERATIONS:
        raise validation(f"Unsupported batch operation {operation!r}", code="2010")
    names = [key for key in item if canonical_entity(key) is not None]
    if len(names) != 1:
        raise validation("A batch item names exactly one entity", code="2010")
    name = canonical_entity(names[0])
    assert name is not None
    if name == recurring.NAME:
        # Unmodelled: recurring templates are written one call at a time (syncd never batches them).
        raise validation("RecurringTransaction writes are not supported in a batch", code="2010")
    include = "void" if item.get("optionsData") == "void" else None
    row = _entity_write(company, name, operation, include, item[names[0]], faults)
    return {name: row}


def process(
    company: SimCompany,
    method: str,
    tail: list[str],
    params: Mapping[str, str],
    body: bytes,
    content_type: str,
    faults: Faults,
) -> Reply:
    """Serve one API call. Raises QboFault for anything QBO would refuse. Caller holds the state lock."""
    if not tail:
        raise unknown_route("/")
    head = tail[0].lower()
    if method == "GET":
        return _read(company, tail, params)
    if method != "POST":
        raise unknown_route("/" + "/".join(tail))
    if head == "query":
        text = params.get("query") or body.decode("utf-8", "replace")
        return Reply(200, "read", {"QueryResponse": reads.run_query(company.state, text)})
    try:
        parsed = loads(body) if body.strip() else None
    except ValueError as exc:
        raise QboFault(
            400,
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:Can not parse the request body: {exc}",
            element=None,
        ) from exc
    if head == "batch" and len(tail) == 1:
        return _batch(company, parsed, faults)
    name = canonical_entity(head)
    if name is None or len(tail) != 1:
        raise unknown_route("/" + "/".join(tail))
    if name == recurring.NAME:
        return Reply(200, "write", {name: recurring.wrap(_template_write(company, params, parsed, faults))})
    row = _entity_write(company, name, params.get("operation"), params.get("include"), parsed, faults)
    return Reply(200, "write", {name: row})


def envelope(reply: Reply, now: datetime) -> dict[str, Any]:
    assert reply.payload is not None
    return {**reply.payload, "time": response_time(now)}
