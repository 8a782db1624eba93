from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.stripe.simulator import StripeSimulator


def _types(client: Any) -> list[str]:
    return [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]


def _pi(client: Any, session_id: str) -> Any:
    return client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session_id).payment_intent,
        params={"expand": ["latest_charge.balance_transaction"]},
    )


def test_ach_processes_for_four_business_days_then_succeeds(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session(amount=100000)  # 1,000.00: the 0.8 % fee (8.00) hits the 5.00 cap
    sim.pay_checkout(session.id, "ach_success")
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    assert _pi(client, session.id).status == "processing"
    assert {"checkout.session.completed", "payment_intent.processing"} <= set(_types(client))
    assert "payment_intent.succeeded" not in _types(client)

    sim.clock.advance(timedelta(days=5))  # Monday + 5 days = Saturday: only 4 business days passed on Friday
    pi = _pi(client, session.id)
    assert pi.status == "succeeded"
    assert pi.latest_charge.id.startswith("py_")
    txn = pi.latest_charge.balance_transaction
    assert (txn.type, txn.reporting_category, txn.fee, txn.net) == ("payment", "charge", 500, 99500)
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    types = _types(client)
    assert "checkout.session.async_payment_succeeded" in types
    assert types.index("payment_intent.succeeded") > types.index("payment_intent.processing")


def test_ach_settles_on_the_fourth_business_day_not_before(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session(amount=1000)
    sim.pay_checkout(session.id, "ach_success")
    sim.clock.advance(timedelta(days=3, hours=23))
    assert _pi(client, session.id).status == "processing"
    sim.clock.advance(timedelta(hours=2))
    pi = _pi(client, session.id)
    assert pi.status == "succeeded"
    assert pi.latest_charge.balance_transaction.fee == 8  # 0.8 % of 10.00


def test_ach_failure(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "ach_failure")
    sim.clock.advance(timedelta(days=7))
    pi = _pi(client, session.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "insufficient_funds"
    assert pi.latest_charge.status == "failed"
    session_now = client.v1.checkout.sessions.retrieve(session.id)
    assert session_now.payment_status == "unpaid"
    types = _types(client)
    assert "checkout.session.async_payment_failed" in types
    assert "payment_intent.payment_failed" in types
    assert client.v1.balance_transactions.list().data == []


def test_ach_return_after_success_is_a_lost_dispute(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session(amount=20000)
    sim.pay_checkout(session.id, "ach_return")
    sim.clock.advance(timedelta(days=6))
    pi = _pi(client, session.id)
    assert pi.status == "succeeded"
    assert "charge.dispute.created" not in _types(client)
    sim.clock.advance(timedelta(days=4))
    disputes = client.v1.disputes.list(params={"charge": pi.latest_charge.id})
    assert len(disputes.data) == 1
    dispute = disputes.data[0]
    assert (dispute.status, dispute.reason, dispute.amount) == ("lost", "insufficient_funds", 20000)
    withdrawal = dispute.balance_transactions[0]
    assert withdrawal.amount == -20000 and withdrawal.fee == 1500
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    types = _types(client)
    assert types.index("charge.dispute.created") < types.index("charge.dispute.closed")


def test_refund_of_a_bank_debit_is_a_payment_refund(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session(amount=5000)
    sim.pay_checkout(session.id, "ach_success")
    sim.clock.advance(timedelta(days=6))
    refund = client.v1.refunds.create(params={"payment_intent": _pi(client, session.id).id})
    txn = client.v1.balance_transactions.retrieve(refund.balance_transaction)
    assert (txn.type, txn.amount) == ("payment_refund", -5000)
