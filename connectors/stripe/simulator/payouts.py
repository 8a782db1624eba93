"""Payouts: the available balance swept to the bank daily (or on demand), paid at arrival.

Every payout here behaves like an automatic one, so ``/v1/balance_transactions?payout=po_…``
lists what it settled (including its own ``payout`` transaction), as Stripe does for
automatic payouts."""

from __future__ import annotations

from typing import Any

from connectors.stripe.simulator.balance import new_balance_txn
from connectors.stripe.simulator.clock import next_midnight
from connectors.stripe.simulator.events import emit, record_new
from connectors.stripe.simulator.resources import list_route, retrieve_route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]

FAILURE = ("account_closed", "The bank account has been closed.")


def sweep(state: SimState, *, fail: bool = False) -> list[str]:
    """Pay out every currency's available, not yet paid-out funds; returns the payout ids."""
    store = state.store
    by_currency: dict[str, list[JsonDict]] = {}
    for txn in store.all("balance_transaction"):
        if txn["status"] == "available" and "payout" not in store.note(txn["id"]) and txn["type"] != "payout":
            by_currency.setdefault(txn["currency"], []).append(txn)
    created = []
    for currency, txns in by_currency.items():
        total = sum(int(t["net"]) for t in txns)
        if total <= 0:
            continue
        payout = _new_payout(state, total, currency, fail=fail)
        for txn in txns:
            store.note(txn["id"])["payout"] = payout["id"]
        created.append(payout["id"])
    return created


def _new_payout(state: SimState, amount: int, currency: str, *, fail: bool) -> JsonDict:
    payout_id = state.store.new_id("payout")
    txn = new_balance_txn(
        state,
        amount=-amount,
        fee=0,
        currency=currency,
        type_="payout",
        source=payout_id,
        reporting_category="payout",
        description="STRIPE PAYOUT",
    )
    state.store.note(txn["id"])["payout"] = payout_id
    arrival = next_midnight(state.clock.now())
    payout: JsonDict = {
        "id": payout_id,
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": int(arrival.timestamp()),
        "automatic": True,
        "balance_transaction": txn["id"],
        "created": state.now(),
        "currency": currency,
        "description": "STRIPE PAYOUT",
        "destination": "ba_simulatedbank0000000000",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": "completed",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "pending",
        "trace_id": {"status": "pending", "value": None},
        "type": "bank_account",
    }
    record_new(state, payout)
    state.clock.schedule(arrival, lambda: _arrive(state, payout, fail=fail))
    return payout


def _arrive(state: SimState, payout: JsonDict, *, fail: bool) -> None:
    if fail:
        code, message = FAILURE
        txn = new_balance_txn(
            state,
            amount=int(payout["amount"]),
            fee=0,
            currency=payout["currency"],
            type_="payout_failure",
            source=payout["id"],
            reporting_category="payout_reversal",
            description="STRIPE PAYOUT FAILURE",
        )
        payout.update(
            status="failed", failure_code=code, failure_message=message, failure_balance_transaction=txn["id"]
        )
        emit(state, "payout.failed", payout)
        return
    payout["status"] = "paid"
    payout["trace_id"] = {"status": "supported", "value": f"SIMTRACE{payout['id'][-8:].upper()}"}
    emit(state, "payout.paid", payout)


def schedule_daily(state: SimState, fail_next: list[bool]) -> None:
    """Automatic payouts: every midnight UTC the available balance is swept."""

    def run() -> None:
        fail = bool(fail_next) and fail_next[0]
        if sweep(state, fail=fail) and fail_next:
            fail_next.pop(0)
        state.clock.schedule(next_midnight(state.clock.now()), run)

    state.clock.schedule(next_midnight(state.clock.now()), run)


ROUTES = [
    retrieve_route("payout", "/v1/payouts/{id}"),
    # ``arrival_date`` is accepted and ignored: nothing here lists payouts by it.
    list_route("payout", "/v1/payouts", ("status",), ignored={"arrival_date": "any"}),
]
