"""Customers: create, retrieve, update, delete, list and search by metadata, email or name."""

from __future__ import annotations

from typing import Any

from connectors.stripe.simulator.events import emit, record_new
from connectors.stripe.simulator.forms import merge_metadata, opt_int, opt_str
from connectors.stripe.simulator.ids import random_token
from connectors.stripe.simulator.listing import LIST_SPEC, created_filter, list_object
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.search import SEARCH_SPEC, search_result
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

_ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def _address(value: Any) -> JsonDict | None:
    if not isinstance(value, dict):
        return None
    return {k: value.get(k) or None for k in _ADDRESS_KEYS}


def empty_address() -> JsonDict:
    """An address with every line unset: what Stripe shows where none was collected."""
    return dict.fromkeys(_ADDRESS_KEYS)


def new_customer(state: SimState, params: JsonDict) -> JsonDict:
    """Create and record a customer (also used when Checkout creates one)."""
    customer: JsonDict = {
        "id": state.store.new_id("customer"),
        "object": "customer",
        "address": _address(params.get("address")),
        "balance": opt_int(params, "balance") or 0,
        "created": state.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": opt_str(params, "description"),
        "discount": None,
        "email": opt_str(params, "email"),
        "invoice_prefix": random_token(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata")),
        "name": opt_str(params, "name"),
        "next_invoice_sequence": 1,
        "phone": opt_str(params, "phone"),
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
        "customer_account": None,
    }
    return record_new(state, customer)


def _create(ctx: Ctx) -> JsonDict:
    return new_customer(ctx.state, ctx.params)


def _retrieve(ctx: Ctx) -> JsonDict:
    customer = ctx.state.store.get("customer", ctx.path["id"])
    if ctx.state.store.note(customer["id"]).get("deleted"):
        return {"id": customer["id"], "object": "customer", "deleted": True}
    return customer


def _update(ctx: Ctx) -> JsonDict:
    customer = ctx.state.store.get("customer", ctx.path["id"])
    previous: JsonDict = {}
    for key in ("name", "email", "phone", "description"):
        if key in ctx.params:
            previous[key] = customer[key]
            customer[key] = opt_str(ctx.params, key)
    if "address" in ctx.params:
        previous["address"] = customer["address"]
        customer["address"] = _address(ctx.params["address"])
    if "metadata" in ctx.params:
        previous["metadata"] = customer["metadata"]
        customer["metadata"] = merge_metadata(customer["metadata"], ctx.params["metadata"])
    settings = ctx.params.get("invoice_settings")
    if isinstance(settings, dict) and "default_payment_method" in settings:
        pm_id = opt_str(settings, "default_payment_method")
        if pm_id is not None:
            ctx.state.store.get("payment_method", pm_id, "invoice_settings[default_payment_method]")
        previous["invoice_settings"] = dict(customer["invoice_settings"])
        customer["invoice_settings"]["default_payment_method"] = pm_id
    emit(ctx.state, "customer.updated", customer, previous)
    return customer


def _delete(ctx: Ctx) -> JsonDict:
    customer = ctx.state.store.get("customer", ctx.path["id"])
    ctx.state.store.note(customer["id"])["deleted"] = True
    emit(ctx.state, "customer.deleted", customer)
    return {"id": customer["id"], "object": "customer", "deleted": True}


def _live(state: SimState) -> list[JsonDict]:
    return state.store.newest_first("customer", lambda c: not state.store.note(c["id"]).get("deleted"))


def _list(ctx: Ctx) -> JsonDict:
    email = opt_str(ctx.params, "email")
    keep_created = created_filter(ctx.params)
    items = [c for c in _live(ctx.state) if (email is None or c["email"] == email) and keep_created(c)]
    return list_object(items, ctx.params, "/v1/customers")


def _search(ctx: Ctx) -> JsonDict:
    fields = frozenset({"email", "name", "phone"})
    visible = ctx.state.now() - ctx.state.config.search_lag_seconds
    return search_result(_live(ctx.state), ctx.params, "/v1/customers/search", fields, visible_before=visible)


_ADDRESS_SPEC = dict.fromkeys(_ADDRESS_KEYS, "str")
_WRITE = {
    "name": "str",
    "email": "str",
    "phone": "str",
    "description": "str",
    "metadata": "map",
    "address": _ADDRESS_SPEC,
    "balance": "int",
    "preferred_locales": ["str"],
    "invoice_settings": {"default_payment_method": "str"},
    # Accepted and ignored: not modelled.
    "tax_exempt": "str",
    "shipping": "any",
    "invoice_prefix": "str",
}

ROUTES = [
    Route("POST", "/v1/customers", _create, _WRITE),
    Route("GET", "/v1/customers/search", _search, SEARCH_SPEC),
    Route("GET", "/v1/customers", _list, {**LIST_SPEC, "email": "str", "created": "any"}),
    Route("GET", "/v1/customers/{id}", _retrieve, {}),
    Route("POST", "/v1/customers/{id}", _update, _WRITE),
    Route("DELETE", "/v1/customers/{id}", _delete, {}),
]
