from __future__ import annotations

from typing import Any

import pytest
import stripe

from connectors.stripe.simulator import StripeSimulator


def _paid(sim: StripeSimulator, client: Any, new_session: Any, amount: int = 10000) -> Any:
    session = new_session(amount=amount)
    sim.pay_checkout(session.id, "card_success")
    return client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(session.id).payment_intent)


def test_partial_then_full_refund(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    pi = _paid(sim, client, new_session)
    first = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 2500, "metadata": {"reason_code": "partial"}}
    )
    assert first.id.startswith("re_") and first.status == "succeeded"
    assert first.charge == pi.latest_charge and first.payment_intent == pi.id
    txn = client.v1.balance_transactions.retrieve(first.balance_transaction)
    assert (txn.amount, txn.fee, txn.net, txn.type) == (-2500, 0, -2500, "refund")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2500, False)

    rest = client.v1.refunds.create(params={"charge": pi.latest_charge})
    assert rest.amount == 7500
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (10000, True)

    refunded_events = client.v1.events.list(params={"type": "charge.refunded"}).data
    assert [e.data.object.amount_refunded for e in refunded_events] == [10000, 2500]
    assert [r.id for r in client.v1.refunds.list(params={"payment_intent": pi.id}).data] == [
        rest.id,
        first.id,
    ]


def test_refund_more_than_left_is_refused(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    pi = _paid(sim, client, new_session, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1001})
    assert caught.value.param == "amount"
    client.v1.refunds.create(params={"payment_intent": pi.id})
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert again.value.code == "charge_already_refunded"


def test_refund_of_unpaid_intent_is_refused(client: Any) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": pi.id})
