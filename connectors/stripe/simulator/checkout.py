"""Checkout Sessions over the API: create (payment mode with ``price_data`` line items, or setup
mode to save a method), retrieve, list, line items, expire; sessions also expire at ``expires_at``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.stripe.simulator.checkout_params import expiry, line_items, method_types
from connectors.stripe.simulator.customers import empty_address
from connectors.stripe.simulator.errors import ApiError, bad_state, invalid_param
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.forms import merge_metadata, opt_str, req_str
from connectors.stripe.simulator.ids import random_token
from connectors.stripe.simulator.listing import LIST_SPEC, created_filter, list_object
from connectors.stripe.simulator.payment_intents import CONFIRMABLE, check_amount
from connectors.stripe.simulator.resources import retrieve_route
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]


def create_session(state: SimState, params: JsonDict) -> JsonDict:
    mode = req_str(params, "mode")
    if mode not in ("payment", "setup"):
        raise invalid_param(
            "mode", f"Only mode=payment and mode=setup are simulated, not {mode}.", "parameter_invalid_string"
        )
    total: int | None = None
    currency: str | None = opt_str(params, "currency")
    items: list[JsonDict] = []
    if mode == "payment":
        items, currency = line_items(state, params)
        total = sum(int(i["amount_total"]) for i in items)
        check_amount(total, currency, "line_items")
    elif params.get("line_items"):
        raise invalid_param("line_items", "You cannot pass `line_items` in `setup` mode.")
    customer = opt_str(params, "customer")
    email = opt_str(params, "customer_email")
    if customer is not None and email is not None:
        raise ApiError(
            400, "You may only specify one of these parameters: customer, customer_email.", param="customer"
        )
    if customer is not None:
        email = state.store.get("customer", customer, "customer")["email"]
    for key in ("success_url", "cancel_url"):
        url = opt_str(params, key)
        if url is not None and not url.startswith(("https://", "http://")):
            raise invalid_param(key, "Not a valid URL", "url_invalid")
    allowed = method_types(params)
    pi_data = params.get("payment_intent_data") or {}
    session_id = state.store.new_id("checkout.session")
    session: JsonDict = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "allowed_payment_method_types": allowed,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": opt_str(params, "billing_address_collection"),
        "cancel_url": opt_str(params, "cancel_url"),
        "client_reference_id": opt_str(params, "client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": state.now(),
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer,
        "customer_account": None,
        "customer_creation": None if customer else (opt_str(params, "customer_creation") or "if_required"),
        "customer_details": customer_details(email) if email else None,
        "customer_email": opt_str(params, "customer_email"),
        "discounts": [],
        "excluded_payment_method_types": None,
        "expires_at": expiry(state, params),
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": opt_str(params, "locale"),
        "managed_payments": {"enabled": False},
        "metadata": merge_metadata({}, params.get("metadata")),
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": allowed or ["card"],
        "payment_status": "unpaid" if mode == "payment" else "no_payment_required",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": opt_str(params, "submit_type"),
        "subscription": None,
        "success_url": opt_str(params, "success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": f"{state.config.public_url}/pay/{session_id}",
        "wallet_options": None,
    }
    state.store.add(session)
    note = state.store.note(session_id)
    note["line_items"] = items
    note["form_token"] = random_token(32)
    seti_data = params.get("setup_intent_data") or {}
    note["seti_data"] = {
        "metadata": merge_metadata({}, seti_data.get("metadata")),
        "description": opt_str(seti_data, "description"),
    }
    note["pi_data"] = {
        "metadata": merge_metadata({}, pi_data.get("metadata")),
        "setup_future_usage": opt_str(pi_data, "setup_future_usage"),
        "description": opt_str(pi_data, "description") or (items[0]["description"] if items else None),
        "receipt_email": opt_str(pi_data, "receipt_email"),
    }
    at = datetime.fromtimestamp(int(session["expires_at"]), UTC)
    state.clock.schedule(at, lambda: _expire_quietly(state, session))
    return session


def customer_details(email: str | None) -> JsonDict:
    """What Checkout records about the payer (no address is collected here)."""
    return {
        "address": empty_address(),
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def expire(state: SimState, session: JsonDict, *, quiet: bool = False) -> JsonDict:
    """Expire an open session (cancelling its unfinished PaymentIntent, as Stripe does)."""
    if session["status"] != "open":
        if quiet:
            return session
        raise bad_state(
            "Only Checkout Sessions with a status of `open` can be expired; "
            f"this one is {session['status']}.",
            "resource_invalid_state",
        )
    session["status"] = "expired"
    pi_id = session["payment_intent"]
    if pi_id is not None:
        pi = state.store.get("payment_intent", str(pi_id))
        if pi["status"] in CONFIRMABLE:
            pi.update(status="canceled", canceled_at=state.now(), cancellation_reason="automatic")
            emit(state, "payment_intent.canceled", pi)
    emit(state, "checkout.session.expired", session)
    return session


def _expire_quietly(state: SimState, session: JsonDict) -> None:
    expire(state, session, quiet=True)


def _create(ctx: Ctx) -> JsonDict:
    return create_session(ctx.state, ctx.params)


def _expire(ctx: Ctx) -> JsonDict:
    return expire(ctx.state, ctx.state.store.get("checkout.session", ctx.path["id"]))


def _list(ctx: Ctx) -> JsonDict:
    pi = opt_str(ctx.params, "payment_intent")
    status = opt_str(ctx.params, "status")
    customer = opt_str(ctx.params, "customer")
    details = ctx.params.get("customer_details")
    email = opt_str(details, "email") if isinstance(details, dict) else None
    keep_created = created_filter(ctx.params)

    def keep(s: JsonDict) -> bool:
        found_email = (s["customer_details"] or {}).get("email")
        return (
            pi in (None, s["payment_intent"])
            and status in (None, s["status"])
            and customer in (None, s["customer"])
            and email in (None, found_email)
            and keep_created(s)
        )

    return list_object(
        ctx.state.store.newest_first("checkout.session", keep), ctx.params, "/v1/checkout/sessions"
    )


def _line_items_route(ctx: Ctx) -> JsonDict:
    session = ctx.state.store.get("checkout.session", ctx.path["id"])
    items = list(ctx.state.store.note(session["id"])["line_items"])
    return list_object(items, ctx.params, f"/v1/checkout/sessions/{session['id']}/line_items")


_PRICE_DATA = {
    "currency": "str",
    "unit_amount": "int",
    "unit_amount_decimal": "str",
    "product": "str",
    "product_data": {
        "name": "str",
        "description": "str",
        "metadata": "map",
        "images": ["str"],
        "tax_code": "str",
    },
    "tax_behavior": "str",
}
_CREATE = {
    "mode": "str",
    "line_items": [{"price_data": _PRICE_DATA, "price": "str", "quantity": "int"}],
    "customer": "str",
    "customer_email": "str",
    "customer_creation": "str",
    "success_url": "str",
    "cancel_url": "str",
    "metadata": "map",
    "client_reference_id": "str",
    "expires_at": "int",
    "allowed_payment_method_types": ["str"],
    "payment_method_types": ["str"],
    "payment_method_options": "any",
    "payment_intent_data": {
        "metadata": "map",
        "setup_future_usage": "str",
        "description": "str",
        "receipt_email": "str",
        "statement_descriptor": "str",
        "statement_descriptor_suffix": "str",
        "capture_method": "str",
    },
    "setup_intent_data": {"metadata": "map", "description": "str", "on_behalf_of": "str"},
    "locale": "str",
    "submit_type": "str",
    "billing_address_collection": "str",
    "currency": "str",
    "saved_payment_method_options": "any",
    "invoice_creation": "any",
    "consent_collection": "any",
    "phone_number_collection": "any",
    "custom_text": "any",
    "after_expiration": "any",
    "allow_promotion_codes": "bool",
    "ui_mode": "str",
    # Accepted and ignored: presentation options that change nothing the simulator models.
    "customer_update": "any",
    "custom_fields": "any",
    "payment_method_collection": "str",
    "tax_id_collection": "any",
    "automatic_tax": "any",
    "branding_settings": "any",
    "name_collection": "any",
}

ROUTES = [
    Route("POST", "/v1/checkout/sessions", _create, _CREATE),
    Route(
        "GET",
        "/v1/checkout/sessions",
        _list,
        {
            **LIST_SPEC,
            "payment_intent": "str",
            "status": "str",
            "customer": "str",
            "customer_details": {"email": "str"},
            "created": "any",
        },
    ),
    retrieve_route("checkout.session", "/v1/checkout/sessions/{id}"),
    Route("GET", "/v1/checkout/sessions/{id}/line_items", _line_items_route, LIST_SPEC),
    Route("POST", "/v1/checkout/sessions/{id}/expire", _expire, {}),
]
