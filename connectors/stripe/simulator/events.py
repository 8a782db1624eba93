"""Events: one per state change, with a snapshot of the object, listable newest-first for 30 days."""

from __future__ import annotations

import copy
from typing import Any

from connectors.stripe.simulator.errors import no_such
from connectors.stripe.simulator.forms import str_list
from connectors.stripe.simulator.listing import created_filter, list_object
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

# Stripe keeps events listable and retrievable for 30 days.
RETENTION_SECONDS = 30 * 24 * 60 * 60


def record_new(state: SimState, obj: JsonDict) -> JsonDict:
    """Store a new object and announce it with ``<object>.created``; returns it."""
    state.store.add(obj)
    emit(state, f"{obj['object']}.created", obj)
    return obj


def emit(state: SimState, event_type: str, obj: JsonDict, previous: JsonDict | None = None) -> JsonDict:
    """Record an event about ``obj`` as it is now and hand it to webhook delivery."""
    data: JsonDict = {"object": copy.deepcopy(obj)}
    if previous:
        data["previous_attributes"] = copy.deepcopy(previous)
    event: JsonDict = {
        "id": state.store.new_id("event"),
        "object": "event",
        "api_version": state.config.api_version,
        "created": state.now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": state.request.id, "idempotency_key": state.request.idempotency_key},
        "type": event_type,
    }
    if state.connected:
        event["account"] = state.account  # Connect: the connected account the event happened on
    state.store.add(event)
    state.publish(event)
    return event


def _list(ctx: Ctx) -> JsonDict:
    params = ctx.params
    types = set(str_list(params, "types"))
    if params.get("type"):
        types.add(str(params["type"]))
    keep_created = created_filter(params)
    oldest = ctx.state.now() - RETENTION_SECONDS

    def keep(event: JsonDict) -> bool:
        return (
            int(event["created"]) >= oldest
            and (not types or _type_matches(event["type"], types))
            and keep_created(event)
        )

    return list_object(ctx.state.store.newest_first("event", keep), params, "/v1/events")


def _type_matches(event_type: str, wanted: set[str]) -> bool:
    # Stripe lets ``type`` end in ``*`` to match a family (``charge.dispute.*``).
    return any(event_type == w or (w.endswith("*") and event_type.startswith(w[:-1])) for w in wanted)


def _retrieve(ctx: Ctx) -> JsonDict:
    event = ctx.state.store.get("event", ctx.path["id"])
    if int(event["created"]) < ctx.state.now() - RETENTION_SECONDS:
        raise no_such("event", ctx.path["id"])
    return event


_LIST = {
    "limit": "int",
    "starting_after": "str",
    "ending_before": "str",
    "created": "any",
    "type": "str",
    "types": ["str"],
    "delivery_success": "bool",
}

ROUTES = [
    Route("GET", "/v1/events", _list, _LIST),
    Route("GET", "/v1/events/{id}", _retrieve, {}),
]
