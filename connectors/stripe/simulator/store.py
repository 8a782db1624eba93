"""Every simulated Stripe object, by kind and id, in creation order, plus simulator-private notes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from connectors.stripe.simulator.errors import no_such
from connectors.stripe.simulator.ids import kind_of, new_id

JsonDict = dict[str, Any]


class Store:
    """Objects are kept in their Stripe JSON shape; ``note`` holds what Stripe would not show
    (test behaviour of a payment method, a session's form token, …)."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[str, JsonDict]] = {}
        self._notes: dict[str, JsonDict] = {}

    def new_id(self, kind: str, prefix: str | None = None) -> str:
        return new_id(kind, prefix)

    def add(self, obj: JsonDict) -> JsonDict:
        self._objects.setdefault(str(obj["object"]), {})[str(obj["id"])] = obj
        return obj

    def get(self, kind: str, object_id: str, param: str = "id") -> JsonDict:
        found = self._objects.get(kind, {}).get(object_id)
        if found is None:
            raise no_such(kind, object_id, param)
        return found

    def remove(self, kind: str, object_id: str) -> None:
        """Forget an object Stripe deletes outright (a webhook endpoint), with its notes."""
        self._objects.get(kind, {}).pop(object_id, None)
        self._notes.pop(object_id, None)

    def find(self, object_id: str) -> JsonDict | None:
        kind = kind_of(object_id)
        if kind is None:
            return None
        return self._objects.get(kind, {}).get(object_id)

    def all(self, kind: str) -> list[JsonDict]:
        return list(self._objects.get(kind, {}).values())

    def newest_first(self, kind: str, keep: Callable[[JsonDict], bool] | None = None) -> list[JsonDict]:
        items = [o for o in self.all(kind) if keep is None or keep(o)]
        items.reverse()
        return items

    def note(self, object_id: str) -> JsonDict:
        return self._notes.setdefault(object_id, {})

    def snapshot(self, kind: str) -> list[JsonDict]:
        return copy.deepcopy(self.all(kind))
