"""The retrieve-by-id and filtered-list routes that every stored Stripe resource shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.stripe.simulator.forms import opt_str
from connectors.stripe.simulator.listing import LIST_SPEC, created_filter, list_object
from connectors.stripe.simulator.routing import Ctx, Route

JsonDict = dict[str, Any]


def retrieve_route(kind: str, template: str, spec: Mapping[str, Any] | None = None) -> Route:
    """``GET template`` answering the stored object of ``kind`` named by the path's ``{id}``."""

    def retrieve(ctx: Ctx) -> JsonDict:
        return ctx.state.store.get(kind, ctx.path["id"])

    return Route("GET", template, retrieve, spec or {})


def list_route(
    kind: str,
    url: str,
    fields: tuple[str, ...] = (),
    *,
    created: bool = True,
    ignored: Mapping[str, Any] | None = None,
) -> Route:
    """``GET url`` listing ``kind`` newest first, narrowed by each of ``fields`` given (equal
    values) and by the ``created`` range when ``created``; ``ignored`` params are accepted only."""

    def list_(ctx: Ctx) -> JsonDict:
        wanted = {name: opt_str(ctx.params, name) for name in fields}
        keep_created = created_filter(ctx.params) if created else None

        def keep(obj: JsonDict) -> bool:
            if keep_created is not None and not keep_created(obj):
                return False
            return all(value is None or obj[name] == value for name, value in wanted.items())

        return list_object(ctx.state.store.newest_first(kind, keep), ctx.params, url)

    spec: dict[str, Any] = {**LIST_SPEC, **dict.fromkeys(fields, "str"), **(ignored or {})}
    if created:
        spec["created"] = "any"
    return Route("GET", url, list_, spec)
