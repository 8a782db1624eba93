"""List objects with ``limit``/``starting_after``/``ending_before`` cursors and ``created`` ranges."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.stripe.simulator.errors import invalid_param
from connectors.stripe.simulator.forms import as_int, opt_int, opt_str

JsonDict = dict[str, Any]


def list_object(items_newest_first: list[JsonDict], params: Mapping[str, Any], url: str) -> JsonDict:
    limit = opt_int(params, "limit")
    limit = 10 if limit is None else limit
    if not 1 <= limit <= 100:
        raise invalid_param("limit", "Invalid limit: must be between 1 and 100", "parameter_invalid_integer")
    after = opt_str(params, "starting_after")
    before = opt_str(params, "ending_before")
    ids = [str(item["id"]) for item in items_newest_first]
    if after is not None:
        start = _position(ids, after, "starting_after") + 1
        page = items_newest_first[start : start + limit]
        has_more = start + limit < len(items_newest_first)
    elif before is not None:
        end = _position(ids, before, "ending_before")
        begin = max(0, end - limit)
        page = items_newest_first[begin:end]
        has_more = begin > 0
    else:
        page = items_newest_first[:limit]
        has_more = len(items_newest_first) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def _position(ids: list[str], cursor: str, param: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise invalid_param(param, f"No such object: '{cursor}'", "resource_missing") from None


def created_filter(params: Mapping[str, Any], key: str = "created") -> Callable[[JsonDict], bool]:
    """``created=ts`` or ``created[gte|gt|lte|lt]=ts`` as a predicate over objects."""
    value = params.get(key)
    if value is None or value == "":
        return lambda obj: True
    if not isinstance(value, dict):
        exact = as_int(value, key)
        return lambda obj: int(obj[key]) == exact
    bounds = {op: as_int(v, f"{key}[{op}]") for op, v in value.items()}
    for op in bounds:
        if op not in ("gte", "gt", "lte", "lt"):
            raise invalid_param(
                f"{key}[{op}]", f"Received unknown parameter: {key}[{op}]", "parameter_unknown"
            )

    def keep(obj: JsonDict) -> bool:
        at = int(obj[key])
        return (
            ("gte" not in bounds or at >= bounds["gte"])
            and ("gt" not in bounds or at > bounds["gt"])
            and ("lte" not in bounds or at <= bounds["lte"])
            and ("lt" not in bounds or at < bounds["lt"])
        )

    return keep


LIST_SPEC: dict[str, Any] = {
    "limit": "int",
    "starting_after": "str",
    "ending_before": "str",
}
