"""Frozen dataclasses to and from JSON, tolerantly: how effect payloads are stored and versioned.

Stored fields are the JSON object; ``key_part`` fields are not stored (they build an effect's key
or serial group, which the row holds already; loaded, they come back empty). Loading is the
versioning rule: unknown keys are ignored and a missing field takes its default, so a field is
only ever added with a default, and a changed meaning is a new kind.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Self, Union, get_args, get_origin, get_type_hints

from syncd.errors import PermanentError

_STORED = "stored"


def key_part(default: Any = MISSING) -> Any:
    """A field the key or serial group is built from that the payload does not store."""
    if default is MISSING:
        return field(metadata={_STORED: False})
    return field(default=default, metadata={_STORED: False})


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of ``cls`` (annotations are strings here), once per class."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = get_type_hints(cls)
    return found


def _load(hint: Any, value: Any) -> Any:
    args = get_args(hint)
    if get_origin(hint) in (Union, types.UnionType):
        if value is None:
            return None
        (hint,) = (a for a in args if a is not type(None))
        return _load(hint, value)
    if get_origin(hint) is tuple:
        return tuple(_load(args[0], v) for v in value or ())
    if isinstance(hint, type) and issubclass(hint, Json):
        return hint.from_json(value)
    if hint in (str, int, bool):
        return hint(value)
    raise TypeError(f"no loader for payload field type {hint!r}")


def _dump(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value.to_json() if isinstance(value, Json) else value


@dataclass(frozen=True, slots=True)
class Json:
    """A frozen dataclass read from and written to JSON (see the module docstring)."""

    def to_json(self) -> dict[str, Any]:
        return {f.name: _dump(getattr(self, f.name)) for f in fields(self) if f.metadata.get(_STORED, True)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Raises PermanentError when a field without a default is missing."""
        hints = _hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if not f.metadata.get(_STORED, True):
                values[f.name] = "" if f.default is MISSING else f.default
            elif f.name in data:
                values[f.name] = _load(hints[f.name], data[f.name])
            elif f.default is MISSING:
                raise PermanentError(f"{cls.__name__} payload has no {f.name!r}")
        return cls(**values)
