"""Manual capture: a card authorised now and captured later (in full or in part), cancelled, or
left to expire after the network's window on the simulator clock.

Shapes follow Stripe's "Place a hold on a payment method": confirming a ``capture_method=manual``
PaymentIntent leaves it ``requires_capture`` with ``amount_capturable`` set and an uncaptured
charge (``captured: false``, ``payment_method_details.card.capture_before``), announced by
``charge.succeeded`` and ``payment_intent.amount_capturable_updated``. ``/capture`` takes
``amount_to_capture`` up to the capturable amount; the uncaptured rest is released and shows as
the charge's ``amount_refunded`` (the charge stays ``refunded: false``); the balance transaction is
of the captured amount. ``/cancel`` (or expiry, ``cancellation_reason: automatic``, with
``charge.expired``) releases the whole authorisation: the charge becomes ``refunded: true``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.stripe.simulator.balance import availability, card_fee, new_balance_txn, settle
from connectors.stripe.simulator.charges import new_charge
from connectors.stripe.simulator.errors import bad_state, invalid_param
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.forms import merge_metadata, opt_int
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

# Stripe's window for an online card authorisation (Visa, Mastercard, Amex, Discover): 7 days.
CARD_WINDOW = timedelta(days=7)
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


def authorize(state: SimState, pi: JsonDict, pm: JsonDict) -> str:
    """The card approved the amount: hold it until captured, cancelled or expired."""
    amount = int(pi["amount"])
    charge = new_charge(state, pi, pm, "succeeded")
    before = state.clock.now() + CARD_WINDOW
    charge.update(captured=False, amount_captured=0)
    charge["payment_method_details"]["card"]["capture_before"] = int(before.timestamp())
    pi.update(status="requires_capture", latest_charge=charge["id"], amount_capturable=amount)
    emit(state, "charge.succeeded", charge)
    emit(state, "payment_intent.amount_capturable_updated", pi)
    state.clock.schedule(before, lambda: _expire(state, pi["id"]))
    return "requires_capture"


def capture(state: SimState, pi: JsonDict, amount: int | None, metadata: object) -> JsonDict:
    if pi["status"] != "requires_capture":
        raise bad_state(
            f"This PaymentIntent could not be captured because it has a status of {pi['status']}. "
            "Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
            "payment_intent_unexpected_state",
        )
    capturable = int(pi["amount_capturable"])
    taken = capturable if amount is None else amount
    if taken < 1:
        raise invalid_param(
            "amount_to_capture", "This value must be greater than or equal to 1.", "parameter_invalid_integer"
        )
    if taken > capturable:
        raise invalid_param(
            "amount_to_capture",
            f"The amount to capture ({taken}) is greater than the amount capturable ({capturable}).",
            "amount_too_large",
        )
    if metadata is not None:
        pi["metadata"] = merge_metadata(pi["metadata"], metadata)
    charge = state.store.get("charge", str(pi["latest_charge"]))
    settled = settle(state, taken, pi["currency"])
    txn = new_balance_txn(
        state,
        amount=settled.amount,
        fee=card_fee(state, settled.amount),
        currency=settled.currency,
        exchange_rate=settled.exchange_rate,
        type_="charge",
        source=charge["id"],
        reporting_category="charge",
        description=pi["description"],
        available_on=availability(state),
    )
    charge.update(
        captured=True,
        amount_captured=taken,
        amount_refunded=int(charge["amount"]) - taken,
        balance_transaction=txn["id"],
        metadata=dict(pi["metadata"]),
    )
    pi.update(status="succeeded", amount_received=taken, amount_capturable=0)
    emit(state, "charge.captured", charge)
    emit(state, "payment_intent.succeeded", pi)
    return pi


def release(state: SimState, pi: JsonDict, reason: str | None) -> JsonDict:
    """Cancel an uncaptured PaymentIntent: the whole authorisation goes back to the card."""
    charge = state.store.get("charge", str(pi["latest_charge"]))
    charge.update(refunded=True, amount_refunded=int(charge["amount"]))
    pi.update(status="canceled", canceled_at=state.now(), cancellation_reason=reason, amount_capturable=0)
    if reason == "automatic":
        emit(state, "charge.expired", charge)
    emit(state, "charge.refunded", charge)
    emit(state, "payment_intent.canceled", pi)
    return pi


def _expire(state: SimState, pi_id: str) -> None:
    pi = state.store.get("payment_intent", pi_id)
    if pi["status"] == "requires_capture":
        release(state, pi, "automatic")


def _capture(ctx: Ctx) -> JsonDict:
    pi = ctx.state.store.get("payment_intent", ctx.path["id"])
    return capture(ctx.state, pi, opt_int(ctx.params, "amount_to_capture"), ctx.params.get("metadata"))


ROUTES = [
    Route(
        "POST",
        "/v1/payment_intents/{id}/capture",
        _capture,
        {"amount_to_capture": "int", "metadata": "map", "final_capture": "bool"},
    ),
]
