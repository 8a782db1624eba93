"""Refunds, full or partial, on a charge or a PaymentIntent's latest charge."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.stripe.simulator.balance import new_balance_txn, settle
from connectors.stripe.simulator.errors import bad_state, invalid_param, missing_param
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.forms import merge_metadata, opt_int, opt_str
from connectors.stripe.simulator.resources import list_route, retrieve_route
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]


def _charge_for(state: SimState, params: JsonDict) -> JsonDict:
    charge_id = opt_str(params, "charge")
    pi_id = opt_str(params, "payment_intent")
    if charge_id is not None:
        return state.store.get("charge", charge_id, "charge")
    if pi_id is None:
        raise missing_param("charge")
    pi = state.store.get("payment_intent", pi_id, "payment_intent")
    if pi["status"] != "succeeded" or pi["latest_charge"] is None:
        raise bad_state(
            f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
            "charge_not_refundable",
            "payment_intent",
        )
    return state.store.get("charge", str(pi["latest_charge"]))


def create_refund(state: SimState, params: JsonDict) -> JsonDict:
    charge = _charge_for(state, params)
    if charge["status"] != "succeeded":
        raise bad_state(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.", "charge_not_refundable"
        )
    if charge["disputed"]:
        raise bad_state(
            f"Charge {charge['id']} has been charged back; it cannot be refunded.", "charge_disputed"
        )
    remaining = int(charge["amount"]) - int(charge["amount_refunded"])
    if remaining <= 0:
        raise bad_state(f"Charge {charge['id']} has already been refunded.", "charge_already_refunded")
    amount = opt_int(params, "amount")
    amount = remaining if amount is None else amount
    if amount <= 0:
        raise invalid_param(
            "amount", "This value must be greater than or equal to 1.", "parameter_invalid_integer"
        )
    if amount > remaining:
        raise invalid_param(
            "amount",
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            "amount_too_large",
        )
    refund_id = state.store.new_id("refund")
    settled = settle(state, amount, charge["currency"])
    txn = new_balance_txn(
        state,
        amount=-settled.amount,
        fee=0,
        currency=settled.currency,
        exchange_rate=settled.exchange_rate,
        type_="refund" if charge["payment_method_details"]["type"] == "card" else "payment_refund",
        source=refund_id,
        reporting_category="refund",
        description="REFUND FOR PAYMENT",
    )
    card = charge["payment_method_details"]["type"] == "card"
    refund: JsonDict = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": state.now(),
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "destination_details": (
            {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            }
            if card
            else {
                "type": "us_bank_transfer",
                "us_bank_transfer": {"reference": None, "reference_status": "pending"},
            }
        ),
        "failure_balance_transaction": None,
        "failure_reason": None,
        "metadata": merge_metadata({}, params.get("metadata")),
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "reason": opt_str(params, "reason"),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    state.store.add(refund)
    charge["amount_refunded"] = int(charge["amount_refunded"]) + amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    charge["refunds"]["data"].insert(0, refund)
    emit(state, "refund.created", refund)
    emit(state, "charge.refunded", charge)
    return refund


def fail_refund(state: SimState, refund: JsonDict, reason: str) -> JsonDict:
    """The card issuer or bank sent a refund back (closed card, closed account): a
    ``refund_failure`` balance transaction reverses the refund's, and the charge is unrefunded."""
    if refund["status"] not in ("pending", "succeeded"):
        raise bad_state(f"Refund {refund['id']} is {refund['status']}; only a live refund can fail.")
    original = state.store.get("balance_transaction", str(refund["balance_transaction"]))
    txn = new_balance_txn(
        state,
        amount=-int(original["amount"]),
        fee=0,
        currency=str(original["currency"]),
        exchange_rate=None if original["exchange_rate"] is None else Decimal(str(original["exchange_rate"])),
        type_="refund_failure",
        source=str(refund["id"]),
        reporting_category="refund_failure",
        description="REFUND FAILURE",
    )
    refund["status"] = "failed"
    refund["failure_reason"] = reason
    refund["failure_balance_transaction"] = txn["id"]
    charge = state.store.get("charge", str(refund["charge"]))
    charge["amount_refunded"] = int(charge["amount_refunded"]) - int(refund["amount"])
    charge["refunded"] = False
    emit(state, "refund.failed", refund)
    emit(state, "charge.refund.updated", refund)
    return refund


def _create(ctx: Ctx) -> JsonDict:
    return create_refund(ctx.state, ctx.params)


_CREATE = {
    "charge": "str",
    "payment_intent": "str",
    "amount": "int",
    "metadata": "map",
    "reason": "str",
}

ROUTES = [
    Route("POST", "/v1/refunds", _create, _CREATE),
    retrieve_route("refund", "/v1/refunds/{id}"),
    list_route("refund", "/v1/refunds", ("charge", "payment_intent")),
]
