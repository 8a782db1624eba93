"""Stripe's form-encoded bracket parameters (``metadata[k]=v``, ``line_items[0][price_data][currency]``,
``expand[]=…``) turned into nested dicts and lists, and checked against an endpoint's allowlist."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.stripe.simulator.errors import invalid_integer, invalid_param, missing_param, unknown_param

JsonDict = dict[str, Any]

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

# Maps where the keys are the caller's own and must never be read as list indices.
FREE_MAPS = frozenset({"metadata"})


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    if not rest:
        return [key]
    return [head, *_SEGMENT.findall("[" + rest)]


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> JsonDict:
    """Nest ``a[b][0][c]=v`` pairs; ``[]`` appends; all-digit dict keys become list positions."""
    root: JsonDict = {}
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    parsed: JsonDict = _listify(root, None)
    return parsed


def _listify(node: Any, name: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    if name not in FREE_MAPS and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


# A spec is "str" | "int" | "bool" | "map" (free str->str) | "any" | dict (nested) | list[spec].
Spec = Any


def validate(params: Mapping[str, Any], spec: Mapping[str, Spec], prefix: str = "") -> None:
    """Raise Stripe's ``parameter_unknown`` for anything the endpoint does not take."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in spec:
            raise unknown_param(name)
        _check(value, spec[key], name)


def _check(value: Any, spec: Spec, name: str) -> None:
    if spec == "any":
        return
    if spec == "map":
        if value == "":
            return
        if not isinstance(value, dict) or any(isinstance(v, (dict, list)) for v in value.values()):
            raise invalid_param(
                name, f"Invalid hash: {name} must be a hash of strings", "parameter_invalid_hash"
            )
        return
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise invalid_param(name, f"Invalid array: {name}", "parameter_invalid_array")
        for i, item in enumerate(value):
            _check(item, spec[0], f"{name}[{i}]")
        return
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise invalid_param(name, f"Invalid object: {name}", "parameter_invalid_object")
        validate(value, spec, name)
        return
    if isinstance(value, (dict, list)):
        raise invalid_param(name, f"Invalid {spec}: {name}")
    if spec == "int":
        as_int(value, name)
    elif spec == "bool":
        as_bool(value, name)


def as_int(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise invalid_integer(name)


def as_bool(value: Any, name: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise invalid_param(name, f"Invalid boolean: {value}", "parameter_invalid_boolean")


def opt_str(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    return str(value)


def req_str(params: Mapping[str, Any], key: str, name: str | None = None) -> str:
    value = opt_str(params, key)
    if value is None:
        raise missing_param(name or key)
    return value


def opt_int(params: Mapping[str, Any], key: str, name: str | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    return as_int(value, name or key)


def req_int(params: Mapping[str, Any], key: str, name: str | None = None) -> int:
    value = opt_int(params, key, name)
    if value is None:
        raise missing_param(name or key)
    return value


def opt_bool(params: Mapping[str, Any], key: str) -> bool | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    return as_bool(value, key)


def str_list(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def merge_metadata(current: Mapping[str, str], update: Any) -> dict[str, str]:
    """Stripe semantics: ``metadata=""`` clears all, ``metadata[k]=""`` deletes one key."""
    if update is None:
        return dict(current)
    if update == "":
        return {}
    merged = dict(current)
    for key, value in dict(update).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[str(key)] = str(value)
    return merged
