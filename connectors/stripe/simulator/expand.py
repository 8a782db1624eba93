"""``expand[]``: replace id strings by the objects they name, along dotted paths
(``latest_charge.balance_transaction``, ``data.payment_intent`` in lists)."""

from __future__ import annotations

import copy
from typing import Any

from connectors.stripe.simulator.errors import invalid_param
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

MAX_DEPTH = 4


def expand(state: SimState, obj: JsonDict, paths: list[str]) -> JsonDict:
    """A deep copy of ``obj`` with ``paths`` expanded (the stored object is never touched);
    without paths, ``obj`` itself (it is serialised under the state lock, so it cannot change)."""
    if not paths:
        return obj
    result = copy.deepcopy(obj)
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise invalid_param("expand", f"You cannot expand more than {MAX_DEPTH} levels of a property.")
        _walk(state, result, parts, path)
    return result


def _walk(state: SimState, node: Any, parts: list[str], path: str) -> None:
    if not parts or not isinstance(node, dict):
        return
    key, rest = parts[0], parts[1:]
    if key == "data" and node.get("object") in ("list", "search_result"):
        for item in node["data"]:
            _walk(state, item, rest, path)
        return
    if key == "line_items" and node.get("object") == "checkout.session":
        items = state.store.note(str(node["id"])).get("line_items", [])
        node["line_items"] = {
            "object": "list",
            "data": copy.deepcopy(items),
            "has_more": False,
            "url": f"/v1/checkout/sessions/{node['id']}/line_items",
        }
        return
    if key not in node:
        raise invalid_param("expand", f"This property cannot be expanded ({path}).")
    value = node[key]
    if isinstance(value, str):
        found = state.store.find(value)
        if found is None:
            raise invalid_param("expand", f"This property cannot be expanded ({path}).")
        node[key] = copy.deepcopy(found)
        value = node[key]
    if isinstance(value, dict):
        _walk(state, value, rest, path)
