from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from connectors.stripe.simulator import StripeSimulator

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _pay(sim: StripeSimulator, new_session: Any, amount: int) -> None:
    session = new_session(amount=amount)
    sim.pay_checkout(session.id, "card_success")


def test_funds_become_available_then_pay_out_automatically(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    _pay(sim, new_session, 10000)  # net 9680
    _pay(sim, new_session, 5000)  # fee 145 + 30 -> net 4825
    balance = client.v1.balance.retrieve()
    assert balance.pending[0].amount == 9680 + 4825
    assert balance.available[0].amount == 0

    sim.clock.advance(timedelta(days=2))  # available at midnight two days on, swept at that midnight
    payouts = client.v1.payouts.list()
    assert len(payouts.data) == 1
    payout = payouts.data[0]
    assert (payout.amount, payout.status, payout.automatic, payout.currency) == (
        14505,
        "pending",
        True,
        "usd",
    )
    settled = client.v1.balance_transactions.list(params={"payout": payout.id})
    assert sorted(t.type for t in settled.data) == ["charge", "charge", "payout"]
    payout_txn = client.v1.balance_transactions.retrieve(payout.balance_transaction)
    assert (payout_txn.amount, payout_txn.type, payout_txn.source) == (-14505, "payout", payout.id)

    sim.clock.advance(timedelta(days=1))
    assert client.v1.payouts.retrieve(payout.id).status == "paid"
    paid_events = client.v1.events.list(params={"type": "payout.paid"}).data
    assert [e.data.object.id for e in paid_events] == [payout.id]
    assert client.v1.balance.retrieve().available[0].amount == 0


def test_create_payout_now_and_failure(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    with pytest.raises(Exception, match="no available balance"):
        sim.create_payout()
    _pay(sim, new_session, 10000)
    with pytest.raises(Exception, match="no available balance"):
        sim.create_payout()  # still pending
    sim.fail_next_payout()
    sim.clock.advance(timedelta(days=2))
    failing = client.v1.payouts.list().data[0]
    assert failing.status == "pending"
    sim.clock.advance(timedelta(days=1))
    failed = client.v1.payouts.retrieve(failing.id)
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    back = client.v1.balance_transactions.retrieve(failed.failure_balance_transaction)
    assert (back.amount, back.type) == (9680, "payout_failure")
    assert client.v1.events.list(params={"type": "payout.failed"}).data[0].data.object.id == failed.id
    # the returned funds are available again and go out with that night's automatic payout
    latest = client.v1.payouts.list().data[0]
    assert (latest.amount, latest.status) == (9680, "pending") and latest.id != failed.id


def test_create_payout_on_demand() -> None:
    with StripeSimulator(now=START, payout_schedule_days=0, automatic_payouts=False) as sim:
        client: Any = stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url})
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [{"price_data": {"currency": "usd", "unit_amount": 2000}, "quantity": 2}],
            }
        )
        sim.pay_checkout(session.id, "card_success")
        payout_id = sim.create_payout()
        payout = client.v1.payouts.retrieve(payout_id)
        assert payout.amount == 4000 - 146  # 2.9 % of 40.00 = 1.16, plus 0.30
        settled = client.v1.balance_transactions.list(params={"payout": payout_id}).data
        assert sorted(t.type for t in settled) == ["charge", "payout"]
        with pytest.raises(Exception, match="no available balance"):
            sim.create_payout()
        sim.clock.advance(timedelta(days=3))
        assert client.v1.payouts.list().data[0].status == "paid"


def test_balance_transactions_filters(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    start = int(sim.clock.now().timestamp())
    _pay(sim, new_session, 1000)
    sim.clock.advance(timedelta(hours=1))
    middle = int(sim.clock.now().timestamp())
    _pay(sim, new_session, 2000)
    session = new_session(amount=3000)
    sim.pay_checkout(session.id, "card_success")
    pi = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    client.v1.refunds.create(params={"payment_intent": pi, "amount": 100})

    def amounts(**params: Any) -> list[int]:
        return [t.amount for t in client.v1.balance_transactions.list(params=params).data]

    assert amounts() == [-100, 3000, 2000, 1000]
    assert amounts(created={"gte": middle}) == [-100, 3000, 2000]
    assert amounts(created={"gte": start, "lt": middle}) == [1000]
    assert amounts(type="refund") == [-100]
    everything = client.v1.balance_transactions.list(params={"limit": 1})
    assert [t.amount for t in everything.auto_paging_iter()] == [-100, 3000, 2000, 1000]


def test_zero_and_three_decimal_currencies(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    jpy = new_session(amount=10000, currency="jpy")  # 10,000 yen
    sim.pay_checkout(jpy.id, "card_success")
    txn = client.v1.balance_transactions.list(params={"currency": "jpy"}).data[0]
    assert (txn.amount, txn.fee) == (10000, 290 + 30)

    kwd = new_session(amount=12340, currency="kwd")  # 12.340 KWD
    sim.pay_checkout(kwd.id, "card_success")
    txn = client.v1.balance_transactions.list(params={"currency": "kwd"}).data[0]
    assert txn.fee == 358 + 30  # 2.9 % of 12340 = 357.86 -> 358
    with pytest.raises(stripe.InvalidRequestError):
        new_session(amount=12345, currency="kwd")
    assert {row.currency for row in client.v1.balance.retrieve().pending} == {"jpy", "kwd"}
