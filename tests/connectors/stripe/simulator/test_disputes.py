from __future__ import annotations

from typing import Any

import pytest

from connectors.stripe.simulator import StripeSimulator


def _charge(sim: StripeSimulator, client: Any, new_session: Any) -> str:
    session = new_session(amount=5000)
    sim.pay_checkout(session.id, "card_success")
    pi = client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    return str(pi.latest_charge)


def test_open_dispute_withdraws_amount_and_fee(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    charge_id = _charge(sim, client, new_session)
    dispute_id = sim.open_dispute(charge_id)
    dispute = client.v1.disputes.retrieve(dispute_id)
    assert dispute.id.startswith("dp_")
    assert (dispute.status, dispute.reason, dispute.amount, dispute.charge) == (
        "needs_response",
        "fraudulent",
        5000,
        charge_id,
    )
    (txn,) = dispute.balance_transactions
    assert (txn.amount, txn.fee, txn.net, txn.type, txn.reporting_category) == (
        -5000,
        1500,
        -6500,
        "adjustment",
        "dispute",
    )
    assert client.v1.charges.retrieve(charge_id).disputed is True
    created = client.v1.events.list(params={"type": "charge.dispute.created"}).data
    assert created[0].data.object.id == dispute_id


def test_won_dispute_reinstates_funds(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    dispute_id = sim.open_dispute(_charge(sim, client, new_session))
    sim.close_dispute(dispute_id, won=True)
    dispute = client.v1.disputes.retrieve(dispute_id)
    assert dispute.status == "won"
    reversal = dispute.balance_transactions[1]
    assert (reversal.amount, reversal.fee, reversal.net, reversal.reporting_category) == (
        5000,
        -1500,
        6500,
        "dispute_reversal",
    )
    closed = client.v1.events.list(params={"type": "charge.dispute.closed"}).data
    assert closed[0].data.object.status == "won"


def test_lost_dispute_and_no_second_close(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    dispute_id = sim.open_dispute(_charge(sim, client, new_session), reason="product_not_received")
    sim.close_dispute(dispute_id, won=False)
    dispute = client.v1.disputes.retrieve(dispute_id)
    assert dispute.status == "lost" and len(dispute.balance_transactions) == 1
    with pytest.raises(Exception, match="already closed"):
        sim.close_dispute(dispute_id, won=True)
