from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from connectors.stripe.simulator import StripeSimulator

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _session(client: Any, amount: int, currency: str) -> Any:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price_data": {"currency": currency, "unit_amount": amount}, "quantity": 1}],
        }
    )


def test_other_currencies_convert_into_the_settlement_currency() -> None:
    with StripeSimulator(now=START, settlement_currency="usd") as sim:
        client: Any = stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url})
        session = _session(client, 10000, "eur")  # 100.00 EUR at 1.08 = 108.00 USD
        sim.pay_checkout(session.id, "card_success")
        pi = client.v1.payment_intents.retrieve(
            client.v1.checkout.sessions.retrieve(session.id).payment_intent,
            params={"expand": ["latest_charge.balance_transaction"]},
        )
        assert (pi.latest_charge.amount, pi.latest_charge.currency) == (10000, "eur")
        txn = pi.latest_charge.balance_transaction
        assert (txn.amount, txn.currency, txn.fee) == (10800, "usd", 313 + 30)
        assert txn.exchange_rate == pytest.approx(1.08)
        refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 5000})
        back = client.v1.balance_transactions.retrieve(refund.balance_transaction)
        assert (back.amount, back.currency) == (-5400, "usd")
        same = _session(client, 500, "usd")
        sim.pay_checkout(same.id, "card_success")
        usd_txn = client.v1.balance_transactions.list(params={"limit": 1, "type": "charge"}).data[0]
        assert usd_txn.exchange_rate is None


def test_balance_available_event_when_funds_mature(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    for amount in (1000, 2000):
        session = new_session(amount=amount)
        sim.pay_checkout(session.id, "card_success")
    assert client.v1.events.list(params={"type": "balance.available"}).data == []
    sim.clock.advance(timedelta(days=2))
    announced = client.v1.events.list(params={"type": "balance.available"}).data
    assert len(announced) == 1
    assert announced[0].data.object.object == "balance"


def test_disputed_charge_cannot_be_refunded(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "card_success")
    pi = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    sim.open_dispute(client.v1.payment_intents.retrieve(pi).latest_charge)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi})
    assert caught.value.code == "charge_disputed"
