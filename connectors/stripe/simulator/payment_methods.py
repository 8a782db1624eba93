"""Payment methods: Stripe's test tokens (``pm_card_visa`` …), saved cards and bank accounts,
attach/detach/list for a customer. Each carries its test behaviour in the store's notes."""

from __future__ import annotations

from typing import Any

from connectors.stripe.simulator.customers import empty_address
from connectors.stripe.simulator.errors import bad_state, invalid_param
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.forms import merge_metadata, opt_str, req_str
from connectors.stripe.simulator.ids import random_token
from connectors.stripe.simulator.listing import LIST_SPEC, list_object
from connectors.stripe.simulator.resources import retrieve_route
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

# token -> (type, last4 / brand, behaviour on charge)
TEST_TOKENS: dict[str, tuple[str, str, str]] = {
    "pm_card_visa": ("card", "4242", "card_success"),
    "pm_card_mastercard": ("card", "4444", "card_success"),
    "pm_card_authenticationRequired": ("card", "3184", "requires_action"),
    "pm_card_chargeDeclined": ("card", "0002", "card_declined"),
    "pm_card_chargeDeclinedInsufficientFunds": ("card", "9995", "insufficient_funds"),
    "pm_card_chargeDeclinedLostCard": ("card", "9987", "lost_card"),
    "pm_card_chargeDeclinedStolenCard": ("card", "9979", "stolen_card"),
    "pm_card_chargeDeclinedExpiredCard": ("card", "0069", "expired_card"),
    "pm_card_chargeDeclinedProcessingError": ("card", "0119", "processing_error"),
    "pm_usBankAccount": ("us_bank_account", "6789", "ach_success"),
}

BEHAVIOURS = frozenset(
    {
        "card_success",
        "card_declined",
        "insufficient_funds",
        "lost_card",
        "stolen_card",
        "expired_card",
        "processing_error",
        "try_again_later",
        "do_not_honor",
        "requires_action",
        "ach_success",
        "ach_failure",
        "ach_return",
    }
)

DEFAULT_EXPIRY = (12, 2034)


def _card(last4: str, expiry: tuple[int, int]) -> JsonDict:
    brand = "mastercard" if last4 == "4444" else "visa"
    return {
        "brand": brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "country": "US",
        "display_brand": brand,
        "exp_month": expiry[0],
        "exp_year": expiry[1],
        "fingerprint": random_token(16),
        "funding": "credit",
        "generated_from": None,
        "last4": last4,
        "networks": {"available": [brand], "preferred": None},
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
        "regulated_status": "unregulated",
    }


def _bank(last4: str) -> JsonDict:
    return {
        "account_holder_type": "individual",
        "account_type": "checking",
        "bank_name": "STRIPE TEST BANK",
        "financial_connections_account": None,
        "fingerprint": random_token(16),
        "last4": last4,
        "networks": {"preferred": "ach", "supported": ["ach"]},
        "routing_number": "110000000",
        "status_details": {},
    }


def new_payment_method(
    state: SimState,
    method_type: str,
    last4: str,
    behaviour: str,
    *,
    email: str | None = None,
    name: str | None = None,
    expiry: tuple[int, int] = DEFAULT_EXPIRY,
) -> JsonDict:
    """``expiry`` is (month, year), what the payer typed for a test card (any future date works)."""
    pm: JsonDict = {
        "id": state.store.new_id("payment_method"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": empty_address(),
            "email": email,
            "name": name,
            "phone": None,
            "tax_id": None,
        },
        "created": state.now(),
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": method_type,
        "customer_account": None,
    }
    pm[method_type] = _card(last4, expiry) if method_type == "card" else _bank(last4)
    state.store.add(pm)
    state.store.note(pm["id"])["behaviour"] = behaviour
    return pm


def resolve(state: SimState, pm_id: str, param: str = "payment_method") -> JsonDict:
    """A stored method, or a fresh one minted from a test token, as Stripe does."""
    token = TEST_TOKENS.get(pm_id)
    if token is not None:
        return new_payment_method(state, token[0], token[1], token[2])
    return state.store.get("payment_method", pm_id, param)


def behaviour_of(state: SimState, pm: JsonDict) -> str:
    return str(state.store.note(pm["id"]).get("behaviour", "card_success"))


def attach(state: SimState, pm: JsonDict, customer_id: str) -> JsonDict:
    state.store.get("customer", customer_id, "customer")
    if pm["customer"] == customer_id:
        return pm
    if pm["customer"] is not None:
        raise bad_state(
            "The payment method you provided has already been attached to a customer.",
            "payment_method_unexpected_state",
        )
    pm["customer"] = customer_id
    emit(state, "payment_method.attached", pm)
    return pm


def _attach(ctx: Ctx) -> JsonDict:
    pm = resolve(ctx.state, ctx.path["id"], "id")
    return attach(ctx.state, pm, req_str(ctx.params, "customer"))


def _detach(ctx: Ctx) -> JsonDict:
    pm = ctx.state.store.get("payment_method", ctx.path["id"])
    if pm["customer"] is None:
        raise bad_state(
            "The payment method you provided is not attached to a customer so detachment is impossible."
        )
    customer_id = str(pm["customer"])
    pm["customer"] = None
    emit(ctx.state, "payment_method.detached", pm, {"customer": customer_id})
    customer = ctx.state.store.get("customer", customer_id, "customer")
    settings = customer["invoice_settings"]
    if settings["default_payment_method"] == pm["id"]:
        # Stripe clears a customer's default when that method is detached.
        previous = {"invoice_settings": dict(settings)}
        settings["default_payment_method"] = None
        emit(ctx.state, "customer.updated", customer, previous)
    return pm


def _update(ctx: Ctx) -> JsonDict:
    pm = ctx.state.store.get("payment_method", ctx.path["id"])
    pm["metadata"] = merge_metadata(pm["metadata"], ctx.params.get("metadata"))
    emit(ctx.state, "payment_method.updated", pm)
    return pm


def _list_for(ctx: Ctx, customer_id: str, url: str) -> JsonDict:
    ctx.state.store.get("customer", customer_id, "customer")
    method_type = opt_str(ctx.params, "type")
    items = ctx.state.store.newest_first(
        "payment_method", lambda pm: pm["customer"] == customer_id and method_type in (None, pm["type"])
    )
    return list_object(items, ctx.params, url)


def _list(ctx: Ctx) -> JsonDict:
    customer_id = opt_str(ctx.params, "customer")
    if customer_id is None:
        raise invalid_param("customer", "Listing payment methods needs a customer in this simulator.")
    return _list_for(ctx, customer_id, "/v1/payment_methods")


def _list_customer(ctx: Ctx) -> JsonDict:
    return _list_for(ctx, ctx.path["id"], f"/v1/customers/{ctx.path['id']}/payment_methods")


_LIST = {**LIST_SPEC, "customer": "str", "type": "str", "allow_redisplay": "str"}

ROUTES = [
    Route("POST", "/v1/payment_methods/{id}/attach", _attach, {"customer": "str"}),
    Route("POST", "/v1/payment_methods/{id}/detach", _detach, {}),
    retrieve_route("payment_method", "/v1/payment_methods/{id}"),
    Route("POST", "/v1/payment_methods/{id}", _update, {"metadata": "map"}),
    Route("GET", "/v1/payment_methods", _list, _LIST),
    Route("GET", "/v1/customers/{id}/payment_methods", _list_customer, _LIST),
]
