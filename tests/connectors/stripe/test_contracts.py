"""Every published Stripe sample in tests/contracts maps onto syncd's domain types."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from samples import STRIPE_SAMPLES

from connectors.stripe import events, mapping
from syncd.domain import (
    BalanceTxn,
    CheckoutSession,
    Dispute,
    DisputeStatus,
    PaymentIntent,
    PaymentIntentStatus,
    Payout,
    PayoutStatus,
    Refund,
    StripeEvent,
    StripeEventKind,
)

CONTRACTS = STRIPE_SAMPLES
SAMPLES = sorted(
    p
    for p in [*CONTRACTS.glob("*.json"), *CONTRACTS.glob("docs_examples/*.json")]
    if ".signature." not in p.name
)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _events(body: dict[str, Any]) -> list[StripeEvent]:
    if body["object"] == "list":
        return [events.stripe_event(item) for item in body["data"]]
    return [events.stripe_event(body)]


MAPPERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "balance_transaction": mapping.balance_txn,
    "checkout.session": mapping.checkout_session,
    "payment_intent": mapping.payment_intent,
    "refund": mapping.refund,
    "dispute": mapping.dispute,
    "payout": mapping.payout,
    "customer": mapping.customer_id,
    "payment_method": lambda obj: obj["type"],
    "setup_intent": mapping.saved_payment_method,
    "event": _events,
    "list": _events,
}


def _map_charge(obj: dict[str, Any]) -> object:
    # No domain type for a bare charge: it reaches syncd through its balance transaction and events.
    return events.stripe_event(
        {"object": "event", "id": "evt_x", "type": "charge.succeeded", "created": 1, "data": {"object": obj}}
    )


MAPPERS["charge"] = _map_charge


def test_there_are_samples() -> None:
    assert len(SAMPLES) >= 25


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p.relative_to(CONTRACTS)) for p in SAMPLES])
def test_every_sample_maps(path: Path) -> None:
    body = _load(path)
    result = MAPPERS[body["object"]](body)
    assert result is not None or body["object"] == "setup_intent"


def test_balance_transaction_sample() -> None:
    txn = mapping.balance_txn(_load(CONTRACTS / "balance_transaction.json"))
    assert txn == BalanceTxn(
        id="txn_1PgaxNB7WZ01zgkWEV3TLf40",
        type="charge",
        source_id="ch_1PgafuB7WZ01zgkWXYmPNZs8",
        amount=Decimal("1.00"),
        fee=Decimal("0.00"),
        net=Decimal("1.00"),
        currency="USD",
        exchange_rate=None,
        created=txn.created,
        available_on=txn.available_on,
        reporting_category="charge",
    )
    assert txn.created.tzinfo is not None and txn.created.timestamp() == 1234567890


def test_docs_balance_transaction_is_negative_transfer() -> None:
    txn = mapping.balance_txn(_load(CONTRACTS / "docs_examples/balance_transaction.json"))
    assert (txn.amount, txn.net, txn.type) == (Decimal("-4.00"), Decimal("-4.00"), "transfer")


def test_exchange_rate_float_becomes_the_literal_decimal() -> None:
    body = _load(CONTRACTS / "balance_transaction.json") | {"exchange_rate": 1.234, "fee": 59, "net": 41}
    txn = mapping.balance_txn(body)
    assert txn.exchange_rate == Decimal("1.234")
    assert (txn.fee, txn.net) == (Decimal("0.59"), Decimal("0.41"))


def test_checkout_session_samples() -> None:
    docs = mapping.checkout_session(_load(CONTRACTS / "docs_examples/checkout_session.json"))
    assert isinstance(docs, CheckoutSession)
    assert (docs.amount, docs.currency, docs.payment_status) == (Decimal("21.98"), "USD", "unpaid")
    assert docs.url is not None and docs.url.startswith("https://checkout.stripe.com/")
    fixture = mapping.checkout_session(_load(CONTRACTS / "checkout_session.json"))
    assert (fixture.amount, fixture.currency) == (Decimal(0), "")
    assert fixture.payment_intent_id == "pi_1PgafyB7WZ01zgkWSjxsAJo3"


def test_payment_intent_sample() -> None:
    intent = mapping.payment_intent(_load(CONTRACTS / "payment_intent.json"))
    assert isinstance(intent, PaymentIntent)
    assert intent.status is PaymentIntentStatus.REQUIRES_PAYMENT_METHOD
    assert (intent.amount, intent.amount_received, intent.currency) == (
        Decimal("10.99"),
        Decimal("0.00"),
        "USD",
    )
    assert intent.payment_method_type == "card"
    assert intent.balance_txn is None


def test_payment_intent_with_expanded_charge_and_method() -> None:
    intent = _load(CONTRACTS / "docs_examples/payment_intent.json")
    charge = _load(CONTRACTS / "docs_examples/charge.json")
    txn = _load(CONTRACTS / "docs_examples/balance_transaction.json") | {
        "amount": 2000,
        "fee": 88,
        "net": 1912,
    }
    charge["balance_transaction"] = txn
    intent |= {
        "status": "succeeded",
        "amount_received": 2000,
        "latest_charge": charge,
        "payment_method": _load(CONTRACTS / "payment_method_us_bank_account.json"),
        "metadata": {"company": "9341", "invoice_ids": "130,131", "payment_key": "pk1"},
    }
    mapped = mapping.payment_intent(intent)
    assert mapped.latest_charge_id == charge["id"]
    assert mapped.payment_method_type == "us_bank_account"
    assert mapped.balance_txn is not None
    assert (mapped.balance_txn.fee, mapped.balance_txn.net) == (Decimal("0.88"), Decimal("19.12"))
    assert mapped.metadata["invoice_ids"] == "130,131"


def test_refund_dispute_payout_samples() -> None:
    refund = mapping.refund(_load(CONTRACTS / "refund.json"))
    assert isinstance(refund, Refund) and refund.charge_id == "ch_1PgafuB7WZ01zgkWXYmPNZs8"
    assert refund.amount == Decimal("1.00")
    dispute = mapping.dispute(_load(CONTRACTS / "dispute.json"))
    assert isinstance(dispute, Dispute) and dispute.status is DisputeStatus.WARNING_NEEDS_RESPONSE
    payout = mapping.payout(_load(CONTRACTS / "docs_examples/payout.json"))
    assert isinstance(payout, Payout) and payout.status is PayoutStatus.PENDING
    assert (payout.amount, payout.balance_txn_id) == (Decimal("11.00"), "txn_1OaFDcEcg9tTZuTgYMR25tSe")


def test_dispute_with_balance_transactions() -> None:
    body = _load(CONTRACTS / "dispute.json")
    txn = _load(CONTRACTS / "balance_transaction.json")
    body["balance_transactions"] = [txn | {"amount": -1000, "fee": 1500, "net": -2500, "type": "adjustment"}]
    dispute = mapping.dispute(body)
    assert [(t.amount, t.fee, t.net) for t in dispute.balance_txns] == [
        (Decimal("-10.00"), Decimal("15.00"), Decimal("-25.00"))
    ]


def test_event_samples() -> None:
    completed = events.stripe_event(_load(CONTRACTS / "event_checkout_session_completed.json"))
    assert completed.kind is StripeEventKind.CHECKOUT_COMPLETED
    assert completed.checkout_session_id == completed.object_id
    assert completed.payment_intent_id == "pi_1GqFpCAlCFm536g8HsBSvSEt"
    plan = events.stripe_event(_load(CONTRACTS / "event_plan_created_fixture.json"))
    assert plan.kind is StripeEventKind.OTHER and plan.amount == Decimal("20.00") and plan.currency == "USD"
    listed = _events(_load(CONTRACTS / "event_list_response.json"))
    assert [e.type for e in listed] == ["setup_intent.created"]


def test_modern_checkout_completed_event() -> None:
    session = _load(CONTRACTS / "docs_examples/checkout_session.json") | {
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": "pi_123",
        "metadata": {"company": "9341", "invoice_ids": "130", "payment_key": "pk1"},
    }
    envelope = _load(CONTRACTS / "docs_examples/event.json") | {"type": "checkout.session.completed"}
    envelope["data"] = {"object": session}
    event = events.stripe_event(envelope)
    assert (event.paid, event.amount, event.currency, event.status) == (
        True,
        Decimal("21.98"),
        "USD",
        "complete",
    )
    assert event.payment_intent_id == "pi_123" and event.metadata["payment_key"] == "pk1"


def test_charge_refunded_event_carries_the_refunded_amount() -> None:
    charge = _load(CONTRACTS / "docs_examples/charge.json") | {
        "amount_refunded": 500,
        "payment_intent": "pi_9",
    }
    event = _map_charge(charge)
    assert isinstance(event, StripeEvent) and event.amount == Decimal("10.99")
    refunded = events.stripe_event(
        {
            "object": "event",
            "id": "evt_r",
            "type": "charge.refunded",
            "created": 5,
            "data": {"object": charge},
        }
    )
    assert (refunded.type, refunded.kind) == ("charge.refunded", StripeEventKind.OTHER)  # not subscribed
    assert (refunded.amount, refunded.charge_id, refunded.payment_intent_id) == (
        Decimal("5.00"),
        charge["id"],
        "pi_9",
    )
