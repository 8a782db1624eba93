"""Saved payment methods: setup-mode Checkout parameters, PaymentMethod JSON mapped to syncd's
SavedMethod, and what a method or setup event says (MethodChange)."""

from __future__ import annotations

from typing import Any

import stripe

from connectors.stripe.amounts import wire_currency
from connectors.stripe.checkout import METADATA_VALUE_LIMIT, success_url
from connectors.stripe.mapping import Json, expanded, metadata, ref_id, timestamp
from syncd.domain import MethodChange, MethodKind, SavedMethod, SetupRequest
from syncd.domain.autopay import Mandate
from syncd.errors import PermanentError, ValidationError

METHOD_EVENTS = ("payment_method.attached", "payment_method.detached")


def setup_metadata(request: SetupRequest) -> dict[str, str]:
    """What links a saved method back to syncd: company, QBO customer and the request's key."""
    tags = {
        "company": request.company,
        "qbo_customer": request.qbo_customer_id,
        "request_key": request.request_key,
    }
    for key, value in tags.items():
        if not value or len(value) > METADATA_VALUE_LIMIT:
            raise ValidationError(f"metadata {key} must be 1..{METADATA_VALUE_LIMIT} characters")
    return tags


def setup_session_params(request: SetupRequest) -> stripe.params.checkout.SessionCreateParams:
    """Mode setup for an existing Customer; the metadata is on the session and its SetupIntent."""
    if not request.payment_methods:
        raise ValidationError("no payment method types configured")
    unknown = set(request.payment_methods) - {kind.value for kind in MethodKind}
    if unknown:
        raise ValidationError(f"cannot save payment method types {sorted(unknown)}")
    tags = setup_metadata(request)
    params: stripe.params.checkout.SessionCreateParams = {
        "mode": "setup",
        "customer": request.customer_id,
        "currency": wire_currency(request.currency),
        "allowed_payment_method_types": list(request.payment_methods),
        "success_url": success_url(request.success_url),
        "cancel_url": request.cancel_url,
        "metadata": dict(tags),
        "setup_intent_data": {"metadata": dict(tags)},
        "client_reference_id": request.request_key[:200],
    }
    if request.expires_at is not None:
        if request.expires_at.tzinfo is None:
            raise ValidationError("expires_at must be timezone-aware")
        params["expires_at"] = int(request.expires_at.timestamp())
    return params


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def saved_method(obj: Json, *, default_id: str | None = None, customer_id: str | None = None) -> SavedMethod:
    """A card or US bank account PaymentMethod; other types raise PermanentError (syncd never
    saves them). ``customer_id`` stands in when the object no longer has one (detached)."""
    try:
        kind = MethodKind(obj.get("type"))
    except ValueError:
        found = obj.get("type")
        raise PermanentError(f"payment method {obj.get('id')!r} has unsupported type {found!r}") from None
    details = expanded(obj.get(kind.value))
    if details is None or not isinstance(details.get("last4"), str):
        raise PermanentError(f"payment method {obj.get('id')!r} has no {kind.value} details")
    method_id = str(obj["id"])
    common: dict[str, Any] = {
        "id": method_id,
        "kind": kind,
        "last4": str(details["last4"]),
        "customer_id": ref_id(obj.get("customer")) or customer_id,
        "created": timestamp(obj["created"]),
        "is_default": default_id is not None and default_id == method_id,
    }
    if kind is MethodKind.CARD:
        return SavedMethod(
            **common,
            brand=_str(details.get("display_brand")) or _str(details.get("brand")),
            exp_month=_int(details.get("exp_month")),
            exp_year=_int(details.get("exp_year")),
        )
    return SavedMethod(**common, bank_name=_str(details.get("bank_name")))


def default_method_id(customer: Json) -> str | None:
    settings = expanded(customer.get("invoice_settings"))
    return ref_id(settings.get("default_payment_method")) if settings is not None else None


def change(obj: Json, event_type: str, previous: object) -> MethodChange | None:
    """What a payment_method.*, setup_intent.*, setup-mode checkout or saving payment_intent.*
    event says about saved methods; None otherwise."""
    kind = obj.get("object")
    if kind == "payment_method" and event_type in METHOD_EVENTS:
        before = expanded(previous) or {}
        customer = ref_id(obj.get("customer")) or ref_id(before.get("customer"))
        if obj.get("type") not in {k.value for k in MethodKind}:
            return MethodChange(customer_id=customer, method_id=str(obj["id"]), metadata=metadata(obj))
        method = saved_method(obj, customer_id=customer)
        return MethodChange(customer_id=customer, method=method, method_id=method.id, metadata=metadata(obj))
    if kind == "setup_intent":
        return MethodChange(
            customer_id=ref_id(obj.get("customer")),
            method_id=ref_id(obj.get("payment_method")),
            setup_intent_id=str(obj["id"]),
            metadata=metadata(obj),
        )
    if kind == "payment_intent" and obj.get("setup_future_usage") and obj.get("customer"):
        # A payment that also saves its method ("keep this card for next time").
        return MethodChange(
            customer_id=ref_id(obj.get("customer")),
            method_id=ref_id(obj.get("payment_method")),
            mode="payment",
            metadata=metadata(obj),
        )
    if kind == "checkout.session" and obj.get("mode") == "setup":
        return MethodChange(
            customer_id=ref_id(obj.get("customer")),
            setup_intent_id=ref_id(obj.get("setup_intent")),
            mode="setup",
            metadata=metadata(obj),
        )
    return None


def mandate_data(mandate: Mandate) -> stripe.params.PaymentIntentCreateParamsMandateData:
    """The customer's acceptance as Stripe records a mandate: online (with the IP address and user
    agent it was given from) when both are known, else offline, at the time it was given."""
    accepted_at = int(mandate.accepted_at.timestamp())
    if mandate.ip and mandate.user_agent:
        return {
            "customer_acceptance": {
                "type": "online",
                "accepted_at": accepted_at,
                "online": {"ip_address": mandate.ip, "user_agent": mandate.user_agent},
            }
        }
    return {"customer_acceptance": {"type": "offline", "accepted_at": accepted_at, "offline": {}}}
