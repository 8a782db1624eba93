"""Charges: the object one payment attempt leaves behind, and its retrieve/list routes."""

from __future__ import annotations

from typing import Any

from connectors.stripe.simulator.customers import empty_address
from connectors.stripe.simulator.ids import random_token
from connectors.stripe.simulator.resources import list_route, retrieve_route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]


def _card_details(pm: JsonDict, amount: int) -> JsonDict:
    card = pm["card"]
    return {
        "amount_authorized": amount,
        "authorization_code": None,
        "brand": card["brand"],
        "checks": dict(card["checks"]),
        "country": card["country"],
        "exp_month": card["exp_month"],
        "exp_year": card["exp_year"],
        "extended_authorization": {"status": "disabled"},
        "fingerprint": card["fingerprint"],
        "funding": card["funding"],
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": card["last4"],
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": card["brand"],
        "network_token": {"used": False},
        "network_transaction_id": random_token(15),
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": card["regulated_status"],
        "three_d_secure": None,
        "transaction_link_id": None,
        "wallet": None,
    }


def _bank_details(pm: JsonDict) -> JsonDict:
    bank = pm["us_bank_account"]
    return {
        "account_holder_type": bank["account_holder_type"],
        "account_type": bank["account_type"],
        "bank_name": bank["bank_name"],
        "fingerprint": bank["fingerprint"],
        "last4": bank["last4"],
        "mandate": None,
        "payment_reference": None,
        "routing_number": bank["routing_number"],
    }


def new_charge(state: SimState, pi: JsonDict, pm: JsonDict, status: str) -> JsonDict:
    """A charge for ``pi`` paid with ``pm``; ``status`` is succeeded, pending or failed.
    Bank debits get ``py_`` ids, as Stripe gives non-card payments."""
    amount = int(pi["amount"])
    details: JsonDict = {"type": pm["type"]}
    details[pm["type"]] = _card_details(pm, amount) if pm["type"] == "card" else _bank_details(pm)
    charge_id = state.store.new_id("charge", None if pm["type"] == "card" else "py_")
    charge: JsonDict = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if status == "succeeded" else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": {
            "address": empty_address(),
            "email": pm["billing_details"]["email"],
            "name": pm["billing_details"]["name"],
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "SYNCD SIMULATED",
        "captured": status == "succeeded",
        "created": state.now(),
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(pi["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": status == "succeeded",
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": details,
        "receipt_email": pi["receipt_email"],
        "receipt_number": None,
        "receipt_url": f"{state.config.public_url}/receipts/{charge_id}",
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }
    return state.store.add(charge)


def mark_failed(charge: JsonDict, code: str, message: str, decline_code: str | None) -> None:
    charge.update(
        status="failed",
        paid=False,
        captured=False,
        amount_captured=0,
        failure_code=code,
        failure_message=message,
    )
    charge["outcome"].update(
        network_status="declined_by_network",
        reason=decline_code or code,
        seller_message="The bank did not return any further details with this decline.",
        type="issuer_declined",
        risk_level="normal",
    )


ROUTES = [
    retrieve_route("charge", "/v1/charges/{id}"),
    list_route("charge", "/v1/charges", ("payment_intent", "customer")),
]
