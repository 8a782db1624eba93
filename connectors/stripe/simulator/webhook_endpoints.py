"""Webhook endpoints: create (the ``whsec_`` secret is answered once), retrieve, update, list,
delete, and which enabled endpoints an event goes to, each with its own secret.

Shapes follow Stripe's API reference (``webhook_endpoint``; delete answers ``{id, object,
deleted: true}`` and the endpoint is gone: retrieving it again is ``resource_missing``).
``enabled_events`` is checked against the event types this simulator knows, plus ``*``; Stripe
checks against its full list, so a typo fails here as it would there.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.stripe.simulator.errors import invalid_param, missing_param
from connectors.stripe.simulator.forms import merge_metadata, opt_bool, opt_str, str_list
from connectors.stripe.simulator.ids import random_token
from connectors.stripe.simulator.resources import list_route, retrieve_route
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]
KIND = "webhook_endpoint"

# Every event type the simulator emits, and the few more Stripe documents for what it models.
KNOWN_EVENTS = frozenset(
    {
        "balance.available",
        "charge.dispute.closed",
        "charge.dispute.created",
        "charge.dispute.funds_reinstated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.failed",
        "charge.pending",
        "charge.refund.updated",
        "charge.refunded",
        "charge.succeeded",
        "charge.updated",
        "checkout.session.async_payment_failed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.completed",
        "checkout.session.expired",
        "customer.created",
        "customer.deleted",
        "customer.updated",
        "payment_intent.canceled",
        "payment_intent.created",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
        "payment_intent.updated",
        "payment_method.attached",
        "payment_method.detached",
        "payment_method.updated",
        "payout.canceled",
        "payout.created",
        "payout.failed",
        "payout.paid",
        "payout.updated",
        "refund.created",
        "refund.failed",
        "refund.updated",
        "setup_intent.canceled",
        "setup_intent.created",
        "setup_intent.requires_action",
        "setup_intent.setup_failed",
        "setup_intent.succeeded",
    }
)
_URL = re.compile(r"^https?://[^\s/]+")


@dataclass(frozen=True)
class Subscriber:
    """Where one event goes: an enabled endpoint's URL and its signing secret."""

    endpoint_id: str
    url: str
    secret: str = field(repr=False)


def _events(value: Any, param: str = "enabled_events") -> list[str]:
    events = str_list({param: value}, param)
    if not events:
        raise missing_param(param)
    for i, name in enumerate(events):
        if name != "*" and name not in KNOWN_EVENTS:
            raise invalid_param(
                f"{param}[{i}]",
                f"Invalid {param}[{i}]: must be one of the event types Stripe sends, or *",
                "parameter_invalid_string",
            )
    return list(dict.fromkeys(events))


def _url(value: str | None) -> str:
    if value is None:
        raise missing_param("url")
    if not _URL.match(value):
        raise invalid_param("url", f"Invalid URL: {value}", "url_invalid")
    return value


def register(
    state: SimState,
    url: str,
    enabled_events: Iterable[str],
    *,
    secret: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    api_version: str | None = None,
    connect: bool = False,
) -> JsonDict:
    """Record an endpoint (the API's create, and the simulator's own ``--webhook``); the returned
    copy carries ``secret``, which no later read shows."""
    endpoint: JsonDict = {
        "id": state.store.new_id(KIND, "we_"),
        "object": KIND,
        "api_version": api_version,
        "application": None,
        "created": state.now(),
        "description": description,
        "enabled_events": list(enabled_events),
        "livemode": False,
        "metadata": dict(metadata or {}),
        "status": "enabled",
        "url": url,
    }
    state.store.add(endpoint)
    state.store.note(endpoint["id"])["secret"] = secret or "whsec_" + random_token(32)
    state.store.note(endpoint["id"])["connect"] = connect
    return {**copy.deepcopy(endpoint), "secret": state.store.note(endpoint["id"])["secret"]}


def subscribers(state: SimState, event_type: str, *, connect: bool = False) -> list[Subscriber]:
    """The enabled endpoints whose ``enabled_events`` take ``event_type``, oldest first: those made
    with ``connect`` get the events of the accounts connected to ``state`` (``connect=True``), the
    others the account's own."""
    found = []
    for endpoint in state.store.all(KIND):
        wanted = endpoint["enabled_events"]
        for_connect = bool(state.store.note(endpoint["id"]).get("connect"))
        if (
            endpoint["status"] == "enabled"
            and ("*" in wanted or event_type in wanted)
            and for_connect == connect
        ):
            secret = str(state.store.note(endpoint["id"])["secret"])
            found.append(Subscriber(str(endpoint["id"]), str(endpoint["url"]), secret))
    return found


def _create(ctx: Ctx) -> JsonDict:
    params = ctx.params
    if "enabled_events" not in params:
        raise missing_param("enabled_events")
    return register(
        ctx.state,
        _url(opt_str(params, "url")),
        _events(params["enabled_events"]),
        description=opt_str(params, "description"),
        metadata=merge_metadata({}, params.get("metadata")),
        api_version=opt_str(params, "api_version"),
        connect=bool(opt_bool(params, "connect")),
    )


def _update(ctx: Ctx) -> JsonDict:
    endpoint = ctx.state.store.get(KIND, ctx.path["id"])
    params = ctx.params
    if "url" in params:
        endpoint["url"] = _url(opt_str(params, "url"))
    if "enabled_events" in params:
        endpoint["enabled_events"] = _events(params["enabled_events"])
    if "description" in params:
        endpoint["description"] = opt_str(params, "description")
    if "metadata" in params:
        endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
    disabled = opt_bool(params, "disabled")
    if disabled is not None:
        endpoint["status"] = "disabled" if disabled else "enabled"
    return endpoint


def _delete(ctx: Ctx) -> JsonDict:
    endpoint = ctx.state.store.get(KIND, ctx.path["id"])
    ctx.state.store.remove(KIND, endpoint["id"])
    return {"id": endpoint["id"], "object": KIND, "deleted": True}


_CREATE = {
    "url": "str",
    "enabled_events": ["str"],
    "description": "str",
    "metadata": "map",
    "api_version": "str",
    "connect": "bool",
}
_UPDATE = {
    "url": "str",
    "enabled_events": ["str"],
    "description": "str",
    "metadata": "map",
    "disabled": "bool",
}

ROUTES = [
    Route("POST", "/v1/webhook_endpoints", _create, _CREATE),
    list_route(KIND, "/v1/webhook_endpoints", created=False),
    retrieve_route(KIND, "/v1/webhook_endpoints/{id}"),
    Route("POST", "/v1/webhook_endpoints/{id}", _update, _UPDATE),
    Route("DELETE", "/v1/webhook_endpoints/{id}", _delete, {}),
]
