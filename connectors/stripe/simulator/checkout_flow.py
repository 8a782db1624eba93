"""What happens when a person pays a Checkout Session: the PaymentIntent is created on the first
attempt, the chosen test outcome runs, and the session completes (card: paid; ACH: unpaid while
the debit processes) or stays open after a decline, as on Stripe's hosted page. A setup-mode
session saves the method instead, through its SetupIntent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.stripe.simulator.checkout import customer_details
from connectors.stripe.simulator.customers import new_customer
from connectors.stripe.simulator.errors import ApiError, bad_state, invalid_param
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.payment_intents import new_payment_intent
from connectors.stripe.simulator.payment_methods import DEFAULT_EXPIRY, new_payment_method
from connectors.stripe.simulator.payments import attempt, complete_authentication
from connectors.stripe.simulator.setup_intents import confirm_setup, new_setup_intent
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

# outcome -> (payment method type, last4)
OUTCOMES: dict[str, tuple[str, str]] = {
    "card_success": ("card", "4242"),
    "card_mastercard": ("card", "4444"),
    "card_declined": ("card", "0002"),
    "insufficient_funds": ("card", "9995"),
    "requires_action": ("card", "3184"),
    "ach_success": ("us_bank_account", "6789"),
    "ach_failure": ("us_bank_account", "1116"),
    "ach_return": ("us_bank_account", "2227"),
}
AUTH_OUTCOMES = ("3ds_complete", "3ds_fail")
# Outcomes that are another test card with the same behaviour.
SAME_AS = {"card_mastercard": "card_success"}


@dataclass(frozen=True)
class PayResult:
    """``status``: paid, processing, saved (setup mode), declined or requires_action;
    ``message`` for the payer."""

    status: str
    message: str | None = None


def pay(
    state: SimState, session: JsonDict, outcome: str, expiry: tuple[int, int] = DEFAULT_EXPIRY
) -> PayResult:
    """``expiry`` is the (month, year) the payer typed for a test card."""
    if session["status"] != "open":
        raise bad_state(f"This Checkout Session is {session['status']} and can no longer be paid.")
    if session["mode"] == "setup":
        return _save(state, session, outcome, expiry)
    return _pay(state, session, outcome)


def _save(state: SimState, session: JsonDict, outcome: str, expiry: tuple[int, int]) -> PayResult:
    """Setup mode: a SetupIntent (made on the first attempt) saves the method on the customer."""
    if outcome not in OUTCOMES or outcome == "requires_action":
        raise invalid_param("outcome", f"Test outcome {outcome!r} cannot be saved here.")
    method_type, last4 = OUTCOMES[outcome]
    if method_type not in session["payment_method_types"]:
        raise invalid_param("outcome", f"This session does not offer saving {method_type}.")
    if session["setup_intent"] is None:
        seti_data = state.store.note(session["id"])["seti_data"]
        seti = new_setup_intent(
            state,
            customer=session["customer"],
            metadata=dict(seti_data["metadata"]),
            description=seti_data["description"],
            method_types=list(session["payment_method_types"]),
        )
        session["setup_intent"] = seti["id"]
    else:
        seti = state.store.get("setup_intent", str(session["setup_intent"]))
    email = (session["customer_details"] or {}).get("email")
    behaviour = SAME_AS.get(outcome, outcome)
    pm = new_payment_method(state, method_type, last4, behaviour, email=email, expiry=expiry)
    try:
        confirm_setup(state, seti, str(pm["id"]))
    except ApiError as exc:
        return PayResult("declined", exc.message)
    _complete(state, session, paid=False)
    return PayResult("saved")


def _pay(state: SimState, session: JsonDict, outcome: str) -> PayResult:
    if session["status"] != "open":
        raise bad_state(f"This Checkout Session is {session['status']} and can no longer be paid.")
    if outcome in AUTH_OUTCOMES:
        return _finish_authentication(state, session, passed=outcome == "3ds_complete")
    if outcome not in OUTCOMES:
        raise invalid_param("outcome", f"Unknown test outcome {outcome!r}; choose one of {sorted(OUTCOMES)}.")
    method_type, last4 = OUTCOMES[outcome]
    if method_type not in session["payment_method_types"]:
        raise invalid_param("outcome", f"This session does not offer {method_type} payments.")
    pi = _payment_intent(state, session)
    if pi["status"] == "requires_action":
        pi["status"] = "requires_payment_method"
    email = (session["customer_details"] or {}).get("email")
    pm = new_payment_method(state, method_type, last4, SAME_AS.get(outcome, outcome), email=email)
    result = attempt(state, pi, pm, off_session=False)
    if result == "declined":
        return PayResult("declined", str(pi["last_payment_error"]["message"]))
    if result == "requires_action":
        return PayResult("requires_action")
    _complete(state, session, paid=result == "succeeded")
    return PayResult("paid" if result == "succeeded" else "processing")


def _finish_authentication(state: SimState, session: JsonDict, *, passed: bool) -> PayResult:
    pi = (
        state.store.get("payment_intent", str(session["payment_intent"]))
        if session["payment_intent"]
        else None
    )
    if pi is None or pi["status"] != "requires_action":
        raise bad_state("There is no authentication waiting on this Checkout Session.")
    pm = state.store.get("payment_method", str(pi["payment_method"]))
    result = complete_authentication(state, pi, pm, passed=passed)
    if result == "declined":
        return PayResult("declined", "We are unable to authenticate your payment method.")
    _complete(state, session, paid=True)
    return PayResult("paid")


def _payment_intent(state: SimState, session: JsonDict) -> JsonDict:
    if session["payment_intent"] is not None:
        return state.store.get("payment_intent", str(session["payment_intent"]))
    pi_data = state.store.note(session["id"])["pi_data"]
    customer = session["customer"]
    always = session["customer_creation"] == "always"
    if customer is None and (pi_data["setup_future_usage"] or always):
        # Checkout makes a customer to save the method on when the integration did not give one.
        email = (session["customer_details"] or {}).get("email")
        customer = new_customer(state, {"email": email} if email else {})["id"]
        session["customer"] = customer
    pi = new_payment_intent(
        state,
        amount=int(session["amount_total"]),
        currency=str(session["currency"]),
        customer=customer,
        metadata=dict(pi_data["metadata"]),
        description=pi_data["description"],
        setup_future_usage=pi_data["setup_future_usage"],
        receipt_email=pi_data["receipt_email"],
        method_types=list(session["payment_method_types"]),
    )
    session["payment_intent"] = pi["id"]
    return pi


def _complete(state: SimState, session: JsonDict, *, paid: bool) -> None:
    session["status"] = "complete"
    if session["mode"] == "payment":
        session["payment_status"] = "paid" if paid else "unpaid"
    if session["customer_details"] is None:
        session["customer_details"] = customer_details(None)
    emit(state, "checkout.session.completed", session)
