"""References between entities: *Ref checks and name filling, and unique list names."""

from __future__ import annotations

from typing import Any

from connectors.quickbooks.simulator.store import RealmState
from connectors.quickbooks.simulator.wire import QboFault, duplicate_name

Entity = dict[str, Any]
NAMED = {
    "Account": "Name",
    "Customer": "DisplayName",
    "Vendor": "DisplayName",
    "Item": "Name",
    "PaymentMethod": "Name",
    "TaxCode": "Name",
    "Term": "Name",
    "Class": "Name",
}
REF_TABLES = {
    "CustomerRef": "Customer",
    "DepositToAccountRef": "Account",
    "AccountRef": "Account",
    "FromAccountRef": "Account",
    "ToAccountRef": "Account",
    "PaymentMethodRef": "PaymentMethod",
    "ItemRef": "Item",
    "VendorRef": "Vendor",
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "ARAccountRef": "Account",
}


def check_unique(state: RealmState, name: str, row: Entity, *, exclude: str | None = None) -> None:
    """QBO keeps list names unique (case-insensitively): a clash is fault 6240."""
    field = NAMED.get(name)
    if field is None or not row.get(field):
        return
    wanted = str(row[field]).strip().lower()
    for other in state.table(name).rows():
        if other["Id"] != exclude and str(other.get(field, "")).strip().lower() == wanted:
            raise duplicate_name()


def resolve_refs(state: RealmState, node: Any) -> None:
    """Check every known *Ref points at a live entity and fill its ``name`` as QBO does."""
    if isinstance(node, list):
        for item in node:
            resolve_refs(state, item)
        return
    if not isinstance(node, dict):
        return
    empty: list[str] = []
    for key, value in node.items():
        table_name = REF_TABLES.get(key)
        if table_name and isinstance(value, dict) and value.get("value") not in (None, ""):
            target = state.table(table_name).get(str(value["value"]))
            if target is None:
                raise QboFault(
                    400,
                    "2500",
                    "Invalid Reference Id",
                    f"Invalid Reference Id : {table_name} {value['value']}",
                    element=key,
                )
            label = target.get("DisplayName") or target.get("Name")
            node[key] = {"value": str(value["value"]), "name": str(label)}
        elif table_name and isinstance(value, dict):
            empty.append(key)
        else:
            resolve_refs(state, value)
    for key in empty:
        del node[key]  # QBO ignores a reference sent as {"value": null}
