"""SetupIntents: save a payment method on a customer for later off-session charges."""

from __future__ import annotations

import copy
from typing import Any

from connectors.stripe.simulator.errors import bad_state, card_error
from connectors.stripe.simulator.events import emit, record_new
from connectors.stripe.simulator.forms import merge_metadata, opt_bool, opt_str, str_list
from connectors.stripe.simulator.ids import new_id, random_token
from connectors.stripe.simulator.payment_methods import attach, behaviour_of, resolve
from connectors.stripe.simulator.payments import DECLINES, payment_error
from connectors.stripe.simulator.resources import retrieve_route
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]


def _new(state: SimState, params: JsonDict) -> JsonDict:
    return new_setup_intent(
        state,
        customer=opt_str(params, "customer"),
        metadata=merge_metadata({}, params.get("metadata")),
        description=opt_str(params, "description"),
        allowed=str_list(params, "allowed_payment_method_types") or None,
        usage=opt_str(params, "usage"),
    )


def new_setup_intent(
    state: SimState,
    *,
    customer: str | None,
    metadata: dict[str, str],
    description: str | None,
    allowed: list[str] | None = None,
    method_types: list[str] | None = None,
    usage: str | None = None,
) -> JsonDict:
    """A SetupIntent in requires_payment_method (also made by a setup-mode Checkout Session)."""
    if customer is not None:
        state.store.get("customer", customer, "customer")
    seti_id = state.store.new_id("setup_intent")
    seti: JsonDict = {
        "id": seti_id,
        "object": "setup_intent",
        "allowed_payment_method_types": allowed,
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{seti_id}_secret_{random_token(32)}",
        "created": state.now(),
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": method_types or allowed or ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": usage or "off_session",
    }
    return record_new(state, seti)


def confirm_setup(state: SimState, seti: JsonDict, pm_id: str | None) -> JsonDict:
    """Confirm with ``pm_id`` (or the method already set): attaches it to the customer on
    success; a decline raises the card error and leaves the intent for another method."""
    if seti["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
        raise bad_state(
            f"You cannot confirm this SetupIntent because it has a status of {seti['status']}.",
            "setup_intent_unexpected_state",
        )
    chosen = pm_id or seti["payment_method"]
    if chosen is None:
        raise bad_state("You cannot confirm this SetupIntent because it's missing a payment method.")
    pm = resolve(state, str(chosen))
    seti["payment_method"] = pm["id"]
    behaviour = behaviour_of(state, pm)
    if behaviour == "requires_action":
        seti["status"] = "requires_action"
        seti["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect"},
        }
        emit(state, "setup_intent.requires_action", seti)
        return seti
    if behaviour in DECLINES:
        code, decline_code, message = DECLINES[behaviour]
        seti["status"] = "requires_payment_method"
        seti["last_setup_error"] = payment_error(code, decline_code, message, None, pm)
        emit(state, "setup_intent.setup_failed", seti)
        raise card_error(code, decline_code, message, payment_intent=None, charge=None)
    if seti["customer"] is not None:
        attach(state, pm, seti["customer"])
    if pm["type"] == "us_bank_account":
        # Setting up a bank account records the customer's mandate: later debits reuse it.
        seti["mandate"] = state.store.note(pm["id"])["mandate"] = new_id("mandate")
    seti["status"] = "succeeded"
    emit(state, "setup_intent.succeeded", seti)
    return seti


def _create(ctx: Ctx) -> JsonDict:
    seti = _new(ctx.state, ctx.params)
    pm_id = opt_str(ctx.params, "payment_method")
    if pm_id is not None:
        seti["payment_method"] = resolve(ctx.state, pm_id)["id"]
        seti["status"] = "requires_confirmation"
    if opt_bool(ctx.params, "confirm"):
        confirm_setup(ctx.state, seti, None)
    return seti


def _confirm_route(ctx: Ctx) -> JsonDict:
    seti = ctx.state.store.get("setup_intent", ctx.path["id"])
    return copy.deepcopy(confirm_setup(ctx.state, seti, opt_str(ctx.params, "payment_method")))


_CREATE = {
    "customer": "str",
    "payment_method": "str",
    "confirm": "bool",
    "usage": "str",
    "metadata": "map",
    "description": "str",
    "allowed_payment_method_types": ["str"],
    "payment_method_options": "any",
    "return_url": "str",
}

ROUTES = [
    Route("POST", "/v1/setup_intents", _create, _CREATE),
    retrieve_route("setup_intent", "/v1/setup_intents/{id}", {"client_secret": "str"}),
    Route(
        "POST",
        "/v1/setup_intents/{id}/confirm",
        _confirm_route,
        {"payment_method": "str", "return_url": "str"},
    ),
]
