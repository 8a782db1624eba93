"""QBO reads the client makes by id: one entity, invoices by their ids, the company's own facts."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.quickbooks import pull
from connectors.quickbooks.errors import QboNotFoundError, error_for_fault, fault_from_json
from connectors.quickbooks.mapping import Json, is_deleted, query_rows, to_company_info
from connectors.quickbooks.sdk import SdkCalls
from syncd.domain import CompanyInfo
from syncd.errors import PermanentError


def read_entity(calls: SdkCalls, entity: str, entity_id: str) -> Json | None:
    """The entity as QBO holds it (deleted ones included), None when QBO knows no such id."""
    try:
        answer = calls.get(entity, entity_id)
    except QboNotFoundError:
        return None
    obj = answer.get(entity)
    return obj if isinstance(obj, dict) else None


def invoice_rows(calls: SdkCalls, ids: Sequence[str]) -> list[Json]:
    """The invoices of ``ids`` (digits only) that exist and are not deleted, in one query."""
    quoted = ", ".join(f"'{i}'" for i in ids)  # digits only: nothing to escape
    answer = calls.query(f"SELECT * FROM Invoice WHERE Id IN ({quoted})")  # noqa: S608
    return [row for row in query_rows(answer, "Invoice") if not is_deleted(row)]


def company_info(calls: SdkCalls, realm_id: str) -> CompanyInfo:
    """CompanyInfo and Preferences, read in one batch call."""
    answer = pull.batch_items(
        calls.batch(
            [
                {"bId": "company", "Query": "SELECT * FROM CompanyInfo"},
                {"bId": "prefs", "Query": "SELECT * FROM Preferences"},
            ],
            None,
        )
    )
    company = _first_row(answer, "company", "CompanyInfo")
    if company is None:
        raise PermanentError("QBO returned no CompanyInfo")
    return to_company_info(realm_id, company, _first_row(answer, "prefs", "Preferences"))


def _first_row(answer: dict[str, Json], bid: str, entity: str) -> Json | None:
    item = answer.get(bid) or {}
    fault = fault_from_json(item)
    if fault is not None:
        raise error_for_fault(fault)
    rows = query_rows(item, entity)
    return rows[0] if rows else None
