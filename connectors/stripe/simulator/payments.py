"""One payment attempt on a PaymentIntent with a payment method, by the method's test behaviour:
card success / decline / 3-D Secure, or an ACH debit that starts processing."""

from __future__ import annotations

from typing import Any

from connectors.stripe.simulator import ach
from connectors.stripe.simulator.balance import book_charge, card_fee
from connectors.stripe.simulator.captures import authorize
from connectors.stripe.simulator.charges import mark_failed, new_charge
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.payment_methods import attach, behaviour_of
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

DECLINES: dict[str, tuple[str, str, str]] = {
    # behaviour -> (code, decline_code, message)
    "card_declined": ("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    # Stripe's test cards 4000000000009987 / 9979 / 0069 / 0119; the last two are their own codes.
    "lost_card": ("card_declined", "lost_card", "Your card was declined."),
    "stolen_card": ("card_declined", "stolen_card", "Your card was declined."),
    "expired_card": ("expired_card", "expired_card", "Your card has expired."),
    "processing_error": (
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    # No test card gives these two; ``set_payment_method_behaviour`` does.
    "try_again_later": ("card_declined", "try_again_later", "Your card was declined."),
    "do_not_honor": ("card_declined", "do_not_honor", "Your card was declined."),
}

AUTH_MESSAGE = "Your card was declined. This transaction requires authentication."


def payment_error(
    code: str, decline_code: str | None, message: str, charge_id: str | None, pm: JsonDict
) -> JsonDict:
    error: JsonDict = {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "charge": charge_id,
        "payment_method": pm,
    }
    return error


def attempt(state: SimState, pi: JsonDict, pm: JsonDict, *, off_session: bool) -> str:
    """Run the attempt and emit its events; returns the PaymentIntent's new status, or
    ``declined`` (the PI is back to requires_payment_method with ``last_payment_error``)."""
    behaviour = behaviour_of(state, pm)
    pi["payment_method"] = pm["id"]
    pi["last_payment_error"] = None
    pi["next_action"] = None
    if behaviour == "requires_action":
        return _requires_action(state, pi, pm, off_session=off_session)
    if behaviour in DECLINES:
        return _decline(state, pi, pm, *DECLINES[behaviour])
    if behaviour.startswith("ach_"):
        return _start_ach(state, pi, pm, behaviour)
    return _card_success(state, pi, pm)


def complete_authentication(state: SimState, pi: JsonDict, pm: JsonDict, *, passed: bool) -> str:
    """The customer finished (or failed) the 3-D Secure challenge of a requires_action PI."""
    pi["next_action"] = None
    if passed:
        return _card_success(state, pi, pm)
    pi["status"] = "requires_payment_method"
    pi["last_payment_error"] = payment_error(
        "payment_intent_authentication_failure",
        None,
        "The provided PaymentMethod has failed authentication.",
        None,
        pm,
    )
    emit(state, "payment_intent.payment_failed", pi)
    return "declined"


def _requires_action(state: SimState, pi: JsonDict, pm: JsonDict, *, off_session: bool) -> str:
    pi["status"] = "requires_action"
    pi["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
    if off_session:
        pi["last_payment_error"] = payment_error(
            "authentication_required", "authentication_required", AUTH_MESSAGE, None, pm
        )
    emit(state, "payment_intent.requires_action", pi)
    return "requires_action"


def _decline(state: SimState, pi: JsonDict, pm: JsonDict, code: str, decline_code: str, message: str) -> str:
    charge = new_charge(state, pi, pm, "failed")
    mark_failed(charge, code, message, decline_code)
    pi["latest_charge"] = charge["id"]
    pi["status"] = "requires_payment_method"
    pi["last_payment_error"] = payment_error(code, decline_code, message, charge["id"], pm)
    emit(state, "charge.failed", charge)
    emit(state, "payment_intent.payment_failed", pi)
    return "declined"


def _card_success(state: SimState, pi: JsonDict, pm: JsonDict) -> str:
    if pi.get("capture_method") == "manual" and pm["type"] == "card":
        _save_method(state, pi, pm)
        return authorize(state, pi, pm)
    charge = new_charge(state, pi, pm, "succeeded")
    amount = int(pi["amount"])
    txn = book_charge(state, pi, charge, card_fee, "charge")
    charge["balance_transaction"] = txn["id"]
    pi.update(status="succeeded", latest_charge=charge["id"], amount_received=amount)
    _save_method(state, pi, pm)
    emit(state, "charge.succeeded", charge)
    emit(state, "payment_intent.succeeded", pi)
    return "succeeded"


def _start_ach(state: SimState, pi: JsonDict, pm: JsonDict, behaviour: str) -> str:
    charge = new_charge(state, pi, pm, "pending")
    pi.update(status="processing", latest_charge=charge["id"])
    _save_method(state, pi, pm)
    emit(state, "charge.pending", charge)
    emit(state, "payment_intent.processing", pi)
    ach.schedule_settlement(state, pi, charge, behaviour)
    return "processing"


def _save_method(state: SimState, pi: JsonDict, pm: JsonDict) -> None:
    if pi["setup_future_usage"] and pi["customer"] and pm["customer"] is None:
        attach(state, pm, pi["customer"])
