"""Checkout Session create parameters: ``price_data`` line items, the expiry window, method types."""

from __future__ import annotations

from typing import Any

from connectors.stripe.simulator.errors import invalid_param, missing_param
from connectors.stripe.simulator.forms import opt_int, opt_str, req_int, req_str, str_list
from connectors.stripe.simulator.ids import random_token
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

SUPPORTED_METHODS = ("card", "us_bank_account")
MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 60 * 60


def line_items(state: SimState, params: JsonDict) -> tuple[list[JsonDict], str]:
    raw = params.get("line_items")
    if not raw:
        raise missing_param("line_items")
    items: list[JsonDict] = []
    currency: str | None = None
    for i, item in enumerate(raw):
        name = f"line_items[{i}]"
        if "price" in item:
            raise invalid_param(f"{name}[price]", f"No such price: '{item['price']}'", "resource_missing")
        price = item.get("price_data")
        if not isinstance(price, dict):
            raise missing_param(f"{name}[price_data]")
        item_currency = req_str(price, "currency", f"{name}[price_data][currency]").lower()
        if currency is not None and item_currency != currency:
            raise invalid_param(f"{name}[price_data][currency]", "All line items must use the same currency.")
        currency = item_currency
        if price.get("unit_amount_decimal") not in (None, ""):
            raw_decimal = str(price["unit_amount_decimal"])
            if not raw_decimal.isdigit():
                raise invalid_param(
                    f"{name}[price_data][unit_amount_decimal]", "Whole minor units only here."
                )
            unit = int(raw_decimal)
        else:
            unit = req_int(price, "unit_amount", f"{name}[price_data][unit_amount]")
        quantity = opt_int(item, "quantity", f"{name}[quantity]")
        if quantity is None:
            raise missing_param(f"{name}[quantity]")
        product = price.get("product_data") or {}
        items.append(
            {
                "id": "li_" + random_token(24),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": unit * quantity,
                "amount_tax": 0,
                "amount_total": unit * quantity,
                "currency": item_currency,
                "description": opt_str(product, "name") or "Item",
                "quantity": quantity,
                "unit_amount": unit,
            }
        )
    assert currency is not None
    return items, currency


def expiry(state: SimState, params: JsonDict) -> int:
    now = state.now()
    expires_at = opt_int(params, "expires_at")
    if expires_at is None:
        return now + MAX_LIFETIME
    if not now + MIN_LIFETIME <= expires_at <= now + MAX_LIFETIME:
        raise invalid_param(
            "expires_at",
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.",
            "parameter_invalid_integer",
        )
    return expires_at


def method_types(params: JsonDict) -> list[str] | None:
    if "payment_method_types" in params:
        raise invalid_param(
            "payment_method_types",
            "Received unknown parameter: payment_method_types. Use allowed_payment_method_types "
            "(API version 2026-10-28).",
            "parameter_unknown",
        )
    allowed = str_list(params, "allowed_payment_method_types") or None
    for method in allowed or []:
        if method not in SUPPORTED_METHODS:
            raise invalid_param(
                "allowed_payment_method_types",
                f"The payment method type `{method}` is not offered by this simulator.",
                "payment_method_unactivated",
            )
    return allowed
