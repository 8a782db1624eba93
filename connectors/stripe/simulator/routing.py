"""The route table type: a method, a path template and a handler taking the request context."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]


@dataclass
class Ctx:
    """What a handler sees: validated params, path ids, and the shared state (lock held)."""

    state: SimState
    params: JsonDict
    path: Mapping[str, str]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Ctx], JsonDict]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    spec: Mapping[str, Any]
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        # Every read and write takes ``expand`` (the app applies it to the answer); a delete
        # answers a stub and takes nothing.
        if self.method != "DELETE":
            self.spec = {**self.spec, "expand": ["str"]}
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        self.pattern = re.compile(f"^{regex}$")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return None if found is None else found.groupdict()
