"""The Checkout Session create parameters for one syncd payment attempt."""

from __future__ import annotations

from datetime import datetime

import stripe

from connectors.stripe.amounts import to_minor, wire_currency
from syncd.domain import CheckoutRequest
from syncd.errors import ValidationError

SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
METADATA_VALUE_LIMIT = 500
NAME_LIMIT = 250


def success_url(url: str) -> str:
    """Ask Stripe to append the session id, unless the caller already placed the placeholder."""
    if SESSION_PLACEHOLDER in url:
        return url
    base, hash_sign, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}session_id={SESSION_PLACEHOLDER}{hash_sign}{fragment}"


def payment_metadata(request: CheckoutRequest) -> dict[str, str]:
    """What links the money back to QBO: by id, never by name (also on the PaymentIntent)."""
    if not request.invoice_ids:
        raise ValidationError(f"payment {request.payment_key} names no invoice")
    tags = {
        "company": request.company,
        "invoice_ids": ",".join(request.invoice_ids),
        "payment_key": request.payment_key,
    }
    for key, value in tags.items():
        if not value or len(value) > METADATA_VALUE_LIMIT:
            raise ValidationError(f"metadata {key} must be 1..{METADATA_VALUE_LIMIT} characters")
    return tags


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValidationError("expires_at must be timezone-aware")
    return int(moment.timestamp())


def session_params(request: CheckoutRequest) -> stripe.params.checkout.SessionCreateParams:
    """Mode payment, one line item for the whole amount, metadata on session and PaymentIntent.

    API 2026-10-28 / SDK 16.1 take ``allowed_payment_method_types`` (``payment_method_types``
    is gone from the session create params).
    """
    amount = to_minor(request.amount, request.currency)
    if amount <= 0:
        raise ValidationError(f"refusing a checkout for {request.amount} {request.currency}")
    if not request.payment_methods:
        raise ValidationError("no payment method types configured")
    tags = payment_metadata(request)
    intent_data: stripe.params.checkout.SessionCreateParamsPaymentIntentData = {"metadata": dict(tags)}
    if request.save_method:
        intent_data["setup_future_usage"] = "off_session"
    params: stripe.params.checkout.SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": wire_currency(request.currency),
                    "unit_amount": amount,
                    "product_data": {"name": (request.description or "Invoice payment")[:NAME_LIMIT]},
                },
            }
        ],
        "success_url": success_url(request.success_url),
        "cancel_url": request.cancel_url,
        "allowed_payment_method_types": list(request.payment_methods),
        "metadata": dict(tags),
        "payment_intent_data": intent_data,
        "client_reference_id": request.payment_key[:200],
    }
    if request.customer_id:
        params["customer"] = request.customer_id
    elif request.customer_email:
        params["customer_email"] = request.customer_email
    if request.expires_at is not None:
        params["expires_at"] = _epoch(request.expires_at)
    return params
