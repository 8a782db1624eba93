"""ACH Direct Debit settlement: a debit stays processing for 4 business days, then succeeds or fails.

As on Stripe, a bank debit is a ``py_`` charge whose balance transaction has type ``payment``
(reporting category ``charge``); that transaction is created when the debit succeeds.

A late return ("ach_return") follows what Stripe documents for ACH Direct Debit ("Failed
payments after success" in docs.stripe.com/payments/ach-direct-debit/accept-a-payment): the
PaymentIntent and charge stay ``succeeded``; Stripe removes the funds by opening a dispute on the
charge (reason ``insufficient_funds``) that cannot be contested, so it is created already
``lost``. Events: ``charge.dispute.created``, ``charge.dispute.funds_withdrawn``,
``charge.dispute.closed``; the withdrawal balance transaction carries the dispute fee.
"""

from __future__ import annotations

from typing import Any

from connectors.stripe.simulator.balance import ach_fee, book_charge
from connectors.stripe.simulator.charges import mark_failed
from connectors.stripe.simulator.clock import add_business_days
from connectors.stripe.simulator.disputes import open_dispute
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

FAILURE = ("insufficient_funds", "The customer's account has insufficient funds to cover this payment.")


def schedule_settlement(state: SimState, pi: JsonDict, charge: JsonDict, behaviour: str) -> None:
    due = add_business_days(state.clock.now(), state.config.ach_settle_business_days)
    state.clock.schedule(due, lambda: _settle(state, pi, charge, behaviour))


def _settle(state: SimState, pi: JsonDict, charge: JsonDict, behaviour: str) -> None:
    if pi["status"] != "processing":
        return
    if behaviour == "ach_failure":
        _fail(state, pi, charge)
        return
    amount = int(pi["amount"])
    txn = book_charge(state, pi, charge, ach_fee, "payment")
    charge.update(
        status="succeeded", paid=True, captured=True, amount_captured=amount, balance_transaction=txn["id"]
    )
    pi.update(status="succeeded", amount_received=amount)
    emit(state, "charge.succeeded", charge)
    emit(state, "payment_intent.succeeded", pi)
    _session_result(state, pi, paid=True)
    if behaviour == "ach_return":
        due = add_business_days(state.clock.now(), state.config.ach_return_business_days)
        state.clock.schedule(due, lambda: _returned(state, charge))


def _fail(state: SimState, pi: JsonDict, charge: JsonDict) -> None:
    code, message = FAILURE
    mark_failed(charge, code, message, None)
    pm = state.store.get("payment_method", str(pi["payment_method"]))
    pi["status"] = "requires_payment_method"
    pi["last_payment_error"] = {
        "type": "card_error",
        "code": code,
        "decline_code": None,
        "doc_url": "https://stripe.com/docs/error-codes/insufficient-funds",
        "message": message,
        "charge": charge["id"],
        "payment_method": pm,
    }
    emit(state, "charge.failed", charge)
    emit(state, "payment_intent.payment_failed", pi)
    _session_result(state, pi, paid=False)


def _returned(state: SimState, charge: JsonDict) -> None:
    if charge["disputed"]:
        return
    open_dispute(state, charge, "insufficient_funds", lost_immediately=True)


def _session_result(state: SimState, pi: JsonDict, *, paid: bool) -> None:
    for session in state.store.all("checkout.session"):
        if session["payment_intent"] == pi["id"] and session["status"] == "complete":
            session["payment_status"] = "paid" if paid else "unpaid"
            kind = "succeeded" if paid else "failed"
            emit(state, f"checkout.session.async_payment_{kind}", session)
