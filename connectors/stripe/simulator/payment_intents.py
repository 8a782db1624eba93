"""PaymentIntents: create, update, confirm (on or off session, saved methods), cancel, list, search."""

from __future__ import annotations

import copy
from typing import Any

from connectors.stripe.simulator.captures import CANCELLATION_REASONS, release
from connectors.stripe.simulator.currency import exponent
from connectors.stripe.simulator.errors import ApiError, bad_state, card_error, invalid_param
from connectors.stripe.simulator.events import emit, record_new
from connectors.stripe.simulator.forms import merge_metadata, opt_bool, opt_str, req_int, req_str, str_list
from connectors.stripe.simulator.ids import new_id, random_token
from connectors.stripe.simulator.payment_methods import resolve
from connectors.stripe.simulator.payments import AUTH_MESSAGE, attempt
from connectors.stripe.simulator.resources import list_route, retrieve_route
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.search import SEARCH_SPEC, search_result
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def check_amount(amount: int, currency: str, param: str = "amount") -> None:
    if amount < 1:
        raise invalid_param(
            param, "This value must be greater than or equal to 1.", "parameter_invalid_integer"
        )
    if exponent(currency) == 3 and amount % 10:
        raise invalid_param(
            param,
            f"Amounts in {currency.upper()} must be a multiple of 10 minor units (the last digit must be 0).",
            "amount_invalid",
        )


def new_payment_intent(
    state: SimState,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    metadata: dict[str, str],
    description: str | None = None,
    setup_future_usage: str | None = None,
    receipt_email: str | None = None,
    method_types: list[str] | None = None,
    allowed_method_types: list[str] | None = None,
    capture_method: str | None = None,
) -> JsonDict:
    currency = currency.lower()
    if capture_method not in (None, "automatic", "automatic_async", "manual"):
        raise invalid_param(
            "capture_method", "Invalid capture_method: must be one of automatic, automatic_async, or manual"
        )
    check_amount(amount, currency)
    if customer is not None:
        state.store.get("customer", customer, "customer")
    pi_id = state.store.new_id("payment_intent")
    pi: JsonDict = {
        "id": pi_id,
        "object": "payment_intent",
        "allowed_payment_method_types": allowed_method_types,
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method or "automatic",
        "client_secret": f"{pi_id}_secret_{random_token(25)}",
        "confirmation_method": "automatic",
        "created": state.now(),
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": method_types or allowed_method_types or ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": setup_future_usage,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    return record_new(state, pi)


def confirm(state: SimState, pi: JsonDict, pm_id: str | None, *, off_session: bool) -> JsonDict:
    """Confirm over the API: declines and off-session 3-D Secure come back as 402 card errors."""
    if pi["status"] not in CONFIRMABLE:
        raise bad_state(
            f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}.",
            "payment_intent_unexpected_state",
        )
    chosen = pm_id or pi["payment_method"]
    if chosen is None:
        raise bad_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            "payment_intent_unexpected_state",
        )
    pm = resolve(state, str(chosen))
    if pm["customer"] is not None and pm["customer"] != pi["customer"]:
        raise invalid_param(
            "payment_method",
            f"The provided PaymentMethod belongs to a different customer than {pi['customer']}.",
            "payment_method_invalid_parameter",
        )
    if off_session and pm["type"] == "us_bank_account" and not _mandate_of(state, pi, pm):
        raise invalid_param(
            "mandate_data",
            "A mandate is required to debit this us_bank_account off-session: pass mandate_data with "
            "the customer's acceptance, or use a payment method set up with a mandate.",
            "payment_intent_mandate_invalid",
        )
    result = attempt(state, pi, pm, off_session=off_session)
    if result == "declined":
        error = pi["last_payment_error"]
        raise card_error(
            error["code"],
            error["decline_code"],
            error["message"],
            payment_intent=copy.deepcopy(pi),
            charge=error["charge"],
        )
    if result == "requires_action" and off_session:
        raise card_error(
            "authentication_required",
            "authentication_required",
            AUTH_MESSAGE,
            payment_intent=copy.deepcopy(pi),
            charge=None,
        )
    return pi


def _mandate_of(state: SimState, pi: JsonDict, pm: JsonDict) -> str | None:
    found = state.store.note(pi["id"]).get("mandate") or state.store.note(pm["id"]).get("mandate")
    return str(found) if found else None


def _accept_mandate(state: SimState, pi: JsonDict, raw: object) -> None:
    """``mandate_data[customer_acceptance]``: online needs the IP address and user agent."""
    acceptance = raw.get("customer_acceptance") if isinstance(raw, dict) else None
    kind = acceptance.get("type") if isinstance(acceptance, dict) else None
    if kind not in ("online", "offline"):
        raise invalid_param(
            "mandate_data[customer_acceptance][type]", "Must be online or offline.", "parameter_invalid_empty"
        )
    online = acceptance.get("online") if isinstance(acceptance, dict) else None
    if kind == "online" and not (
        isinstance(online, dict) and online.get("ip_address") and online.get("user_agent")
    ):
        raise invalid_param(
            "mandate_data[customer_acceptance][online]",
            "An online acceptance needs ip_address and user_agent.",
            "parameter_missing",
        )
    state.store.note(pi["id"])["mandate"] = new_id("mandate")


def _create(ctx: Ctx) -> JsonDict:
    params = ctx.params
    if "payment_method_types" in params:
        raise _removed_param()
    pi = new_payment_intent(
        ctx.state,
        amount=req_int(params, "amount"),
        currency=req_str(params, "currency"),
        customer=opt_str(params, "customer"),
        metadata=merge_metadata({}, params.get("metadata")),
        description=opt_str(params, "description"),
        setup_future_usage=opt_str(params, "setup_future_usage"),
        receipt_email=opt_str(params, "receipt_email"),
        allowed_method_types=str_list(params, "allowed_payment_method_types") or None,
        capture_method=opt_str(params, "capture_method"),
    )
    pm_id = opt_str(params, "payment_method")
    if pm_id is not None:
        pi["payment_method"] = resolve(ctx.state, pm_id)["id"]
        pi["status"] = "requires_confirmation"
    if params.get("mandate_data"):
        _accept_mandate(ctx.state, pi, params["mandate_data"])
    if opt_bool(params, "confirm"):
        confirm(ctx.state, pi, None, off_session=_off_session(params))
    return pi


def _removed_param() -> ApiError:
    return invalid_param(
        "payment_method_types",
        "Received unknown parameter: payment_method_types. Use allowed_payment_method_types "
        "(API version 2026-10-28).",
        "parameter_unknown",
    )


def _off_session(params: JsonDict) -> bool:
    value = params.get("off_session")
    return value in ("true", "one_off", "recurring", True)


def _update(ctx: Ctx) -> JsonDict:
    pi = ctx.state.store.get("payment_intent", ctx.path["id"])
    previous: JsonDict = {}
    if "metadata" in ctx.params:
        previous["metadata"] = pi["metadata"]
        pi["metadata"] = merge_metadata(pi["metadata"], ctx.params["metadata"])
    for key in ("description", "receipt_email"):
        if key in ctx.params:
            previous[key] = pi[key]
            pi[key] = opt_str(ctx.params, key)
    if "amount" in ctx.params:
        if pi["status"] not in CONFIRMABLE:
            raise bad_state(
                "This PaymentIntent's amount could not be updated.", "payment_intent_unexpected_state"
            )
        previous["amount"] = pi["amount"]
        pi["amount"] = req_int(ctx.params, "amount")
        check_amount(pi["amount"], pi["currency"])
    emit(ctx.state, "payment_intent.updated", pi, previous)
    return pi


def _confirm(ctx: Ctx) -> JsonDict:
    pi = ctx.state.store.get("payment_intent", ctx.path["id"])
    return confirm(ctx.state, pi, opt_str(ctx.params, "payment_method"), off_session=_off_session(ctx.params))


def _cancel(ctx: Ctx) -> JsonDict:
    pi = ctx.state.store.get("payment_intent", ctx.path["id"])
    reason = opt_str(ctx.params, "cancellation_reason")
    if reason is not None and reason not in CANCELLATION_REASONS:
        raise invalid_param(
            "cancellation_reason",
            "Invalid cancellation_reason: must be one of " + ", ".join(CANCELLATION_REASONS),
        )
    if pi["status"] == "requires_capture":
        return release(ctx.state, pi, reason)
    if pi["status"] not in CONFIRMABLE:
        raise bad_state(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
            "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
            "requires_capture, requires_confirmation, requires_action, processing.",
            "payment_intent_unexpected_state",
        )
    pi.update(
        status="canceled",
        canceled_at=ctx.state.now(),
        cancellation_reason=opt_str(ctx.params, "cancellation_reason"),
    )
    emit(ctx.state, "payment_intent.canceled", pi)
    return pi


def _search(ctx: Ctx) -> JsonDict:
    fields = frozenset({"status", "customer", "currency"})
    visible = ctx.state.now() - ctx.state.config.search_lag_seconds
    items = ctx.state.store.newest_first("payment_intent")
    return search_result(items, ctx.params, "/v1/payment_intents/search", fields, visible_before=visible)


_CREATE = {
    "amount": "int",
    "currency": "str",
    "customer": "str",
    "metadata": "map",
    "description": "str",
    "setup_future_usage": "str",
    "receipt_email": "str",
    "allowed_payment_method_types": ["str"],
    "payment_method_types": ["str"],
    "payment_method": "str",
    "confirm": "bool",
    "off_session": "str",
    "statement_descriptor": "str",
    "statement_descriptor_suffix": "str",
    "capture_method": "str",
    "payment_method_options": "any",
    "return_url": "str",
    "automatic_payment_methods": "any",
    "mandate_data": "any",
}
_CONFIRM = {
    "payment_method": "str",
    "off_session": "str",
    "return_url": "str",
    "payment_method_options": "any",
}
_UPDATE = {
    "metadata": "map",
    "description": "str",
    "receipt_email": "str",
    "amount": "int",
}

ROUTES = [
    Route("POST", "/v1/payment_intents", _create, _CREATE),
    Route("GET", "/v1/payment_intents/search", _search, SEARCH_SPEC),
    list_route("payment_intent", "/v1/payment_intents", ("customer",)),
    retrieve_route("payment_intent", "/v1/payment_intents/{id}", {"client_secret": "str"}),
    Route("POST", "/v1/payment_intents/{id}", _update, _UPDATE),
    Route("POST", "/v1/payment_intents/{id}/confirm", _confirm, _CONFIRM),
    Route("POST", "/v1/payment_intents/{id}/cancel", _cancel, {"cancellation_reason": "str"}),
]
