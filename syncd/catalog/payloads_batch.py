"""The payload of a batch of money entries: its composition, fixed in the ledger before the call."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from syncd.catalog.jsonable import Json
from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.payloads import Payload
from syncd.errors import PermanentError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BatchMember(Json):
    """One entry effect in a batch: its key and kind, the draft QBO is sent (as JSON text, exact:
    amounts and dates as strings) and what recording QBO's answer on it needs (JSON text)."""

    key: str
    kind: str
    draft: str
    finish: str = "{}"


@dataclass(frozen=True, slots=True)
class EntryBatch(Payload):
    """Up to 30 money entries written in one QBO batch call, in this order. The key (the batch's
    ``requestid``) is a digest of the member keys, so one composition always has one key."""

    KIND = K.QBO_ENTRY_BATCH
    KEY = "qbo:entry_batch:{realm}:{digest}"
    digest: str
    members: tuple[BatchMember, ...]

    @classmethod
    def of_members(cls, members: Sequence[BatchMember]) -> EntryBatch:
        return cls(digest=batch_digest([m.key for m in members]), members=tuple(members))


def batch_digest(keys: Sequence[str]) -> str:
    """The digest of a composition: its member keys, sorted (order does not make another batch)."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:32]


# -- drafts and recorded facts as JSON text ------------------------------------------------------


def to_plain(value: Any) -> Any:
    """A dataclass (drafts, balance transactions), mapping or sequence as JSON values: Decimal as
    its exact string, dates and times in ISO form."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def dump(value: Any) -> str:
    return json.dumps(to_plain(value), sort_keys=True, separators=(",", ":"))


def _from_plain(hint: Any, value: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = (a for a in args if a is not type(None))
        return _from_plain(inner, value)
    if origin is tuple:
        return tuple(_from_plain(args[0], v) for v in value)
    if hint is Decimal:
        return Decimal(str(value))
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_plain(hint, value)
    if hint in (str, int, bool):
        return hint(value)
    raise TypeError(f"no loader for {hint!r}")


def from_plain(cls: type[T], data: Mapping[str, Any]) -> T:
    """``cls`` (a dataclass) from what :func:`to_plain` made of one."""
    hints = get_type_hints(cls)
    try:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        values = {name: _from_plain(hints[name], data[name]) for name in names if name in data}
        return cls(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"stored {cls.__name__} does not load: {exc}") from exc


def load(cls: type[T], text: str) -> T:
    return from_plain(cls, json.loads(text))


BATCH_PAYLOADS: tuple[type[Payload], ...] = (EntryBatch,)
