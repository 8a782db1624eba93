"""Disputes: opened on a charge (funds plus the dispute fee withdrawn), closed won (reinstated)
or lost; also how a late ACH return arrives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from connectors.stripe.simulator.balance import new_balance_txn, settle
from connectors.stripe.simulator.currency import major_to_minor
from connectors.stripe.simulator.errors import bad_state
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.resources import list_route, retrieve_route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

_EVIDENCE_KEYS = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
]


def _method_details(charge: JsonDict) -> JsonDict:
    details = charge["payment_method_details"]
    if details["type"] == "card":
        brand = details["card"]["brand"]
        return {
            "card": {
                "brand": brand,
                "case_type": "chargeback",
                "network_reason_code": "10.4",
                "network": brand,
            },
            "type": "card",
        }
    return {"type": details["type"], details["type"]: {}}


def open_dispute(
    state: SimState, charge: JsonDict, reason: str, *, lost_immediately: bool = False
) -> JsonDict:
    if charge["status"] != "succeeded":
        raise bad_state(f"Charge {charge['id']} has not succeeded and cannot be disputed.")
    if charge["disputed"]:
        raise bad_state(f"Charge {charge['id']} is already disputed.")
    amount = int(charge["amount"]) - int(charge["amount_refunded"])
    dispute_id = state.store.new_id("dispute")
    settled = settle(state, amount, charge["currency"])
    fee = major_to_minor(state.config.dispute_fee_major, settled.currency)
    txn = new_balance_txn(
        state,
        amount=-settled.amount,
        fee=fee,
        currency=settled.currency,
        exchange_rate=settled.exchange_rate,
        type_="adjustment",
        source=dispute_id,
        reporting_category="dispute",
        description=f"Chargeback withdrawal for {charge['id']}",
        fee_description="Dispute fee",
    )
    due_by = state.clock.now() + timedelta(days=21)
    dispute: JsonDict = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [txn],
        "charge": charge["id"],
        "created": state.now(),
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(_EVIDENCE_KEYS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": int(due_by.timestamp()),
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": _method_details(charge),
        "reason": reason,
        "status": "lost" if lost_immediately else "needs_response",
    }
    state.store.add(dispute)
    charge["disputed"] = True
    emit(state, "charge.dispute.created", dispute)
    emit(state, "charge.dispute.funds_withdrawn", dispute)
    if lost_immediately:
        emit(state, "charge.dispute.closed", dispute)
    return dispute


def close_dispute(state: SimState, dispute: JsonDict, *, won: bool) -> None:
    if dispute["status"] in ("won", "lost"):
        raise bad_state(f"Dispute {dispute['id']} is already closed.")
    if won:
        withdrawal = dispute["balance_transactions"][0]
        txn = new_balance_txn(
            state,
            amount=-int(withdrawal["amount"]),
            fee=-int(withdrawal["fee"]),
            currency=withdrawal["currency"],
            exchange_rate=None
            if withdrawal["exchange_rate"] is None
            else Decimal(str(withdrawal["exchange_rate"])),
            type_="adjustment",
            source=dispute["id"],
            reporting_category="dispute_reversal",
            description=f"Chargeback reversal for {dispute['charge']}",
            fee_description="Dispute fee refund",
        )
        dispute["balance_transactions"].append(txn)
        dispute["status"] = "won"
        emit(state, "charge.dispute.funds_reinstated", dispute)
    else:
        dispute["status"] = "lost"
    emit(state, "charge.dispute.closed", dispute)


ROUTES = [
    retrieve_route("dispute", "/v1/disputes/{id}"),
    list_route("dispute", "/v1/disputes", ("charge", "payment_intent")),
]
