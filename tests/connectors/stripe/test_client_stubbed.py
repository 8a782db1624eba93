"""StripeConnector over HTTP against `responses` stubs serving the published Stripe samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import structlog

from connectors.stripe.client import StripeConnector
from syncd.domain import CheckoutRequest, CheckoutStatus, PaymentIntentStatus, StripeEventKind
from syncd.errors import (
    AuthenticationRequiredError,
    AuthError,
    DeclinedError,
    ThrottledError,
    TransientError,
    ValidationError,
)
from syncd.ports.stripe import Stripe, StripeSettings

if TYPE_CHECKING:
    from conftest import StripeStub


def _request(**overrides: Any) -> CheckoutRequest:
    fields: dict[str, Any] = {
        "company": "9341452",
        "invoice_ids": ("130", "131"),
        "amount": Decimal("123.45"),
        "currency": "USD",
        "description": "Invoices 1037, 1038",
        "customer_id": "cus_QXg1o8vcGmoR32",
        "customer_email": "jenny@example.com",
        "success_url": "https://pay.example.com/i/abc/done",
        "cancel_url": "https://pay.example.com/i/abc",
        "payment_methods": ("card", "us_bank_account"),
        "payment_key": "pay:9341452:abc:1",
    }
    fields.update(overrides)
    return CheckoutRequest(**fields)


def test_connector_satisfies_the_protocol(stubbed: StripeConnector) -> None:
    typed: Stripe = stubbed
    assert typed is stubbed


def test_headers_pin_version_and_key(stub: StripeStub, stubbed: StripeConnector) -> None:
    stub.mock.get(stub.url("/v1/payouts/po_1"), json=stub.sample("payout.json"))
    payout = stubbed.get_payout("po_1")
    assert payout.amount == Decimal("11.00")
    sent = stub.calls("GET", "/v1/payouts/po_1")[0]
    assert sent.headers["Stripe-Version"] == StripeSettings("k", "w").api_version == "2026-10-28.endive"
    assert sent.headers["Authorization"] == "Bearer sk_test_stub"


def test_create_checkout_session_sends_what_syncd_needs(stub: StripeStub, stubbed: StripeConnector) -> None:
    session = stub.sample("docs_examples/checkout_session.json")
    session["metadata"] = {"company": "9341452", "invoice_ids": "130,131", "payment_key": "pay:9341452:abc:1"}
    stub.mock.post(stub.url("/v1/checkout/sessions"), json=session)
    expires = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    result = stubbed.create_checkout_session(
        _request(save_method=True, expires_at=expires), idempotency_key="syncd:checkout:pay:9341452:abc:1"
    )
    assert result.id == session["id"] and result.status is CheckoutStatus.OPEN
    sent = stub.calls("POST", "/v1/checkout/sessions")[0]
    assert sent.headers["Idempotency-Key"] == "syncd:checkout:pay:9341452:abc:1"
    body = stub.form(sent.body)
    assert body["mode"] == "payment"
    assert body["line_items[0][quantity]"] == "1"
    assert body["line_items[0][price_data][currency]"] == "usd"
    assert body["line_items[0][price_data][unit_amount]"] == "12345"
    assert body["line_items[0][price_data][product_data][name]"] == "Invoices 1037, 1038"
    assert body["allowed_payment_method_types[0]"] == "card"
    assert body["allowed_payment_method_types[1]"] == "us_bank_account"
    assert not any(key.startswith("payment_method_types") for key in body)
    assert body["customer"] == "cus_QXg1o8vcGmoR32" and "customer_email" not in body
    assert body["success_url"] == "https://pay.example.com/i/abc/done?session_id={CHECKOUT_SESSION_ID}"
    assert body["cancel_url"] == "https://pay.example.com/i/abc"
    for prefix in ("metadata", "payment_intent_data[metadata]"):
        assert body[f"{prefix}[company]"] == "9341452"
        assert body[f"{prefix}[invoice_ids]"] == "130,131"
        assert body[f"{prefix}[payment_key]"] == "pay:9341452:abc:1"
    assert body["payment_intent_data[setup_future_usage]"] == "off_session"
    assert body["expires_at"] == str(int(expires.timestamp()))


def test_checkout_without_customer_uses_email(stub: StripeStub, stubbed: StripeConnector) -> None:
    stub.mock.post(stub.url("/v1/checkout/sessions"), json=stub.sample("docs_examples/checkout_session.json"))
    stubbed.create_checkout_session(
        _request(customer_id=None, success_url="https://x.test/p?lang=fr"), idempotency_key="k1"
    )
    body = stub.form(stub.calls("POST", "/v1/checkout/sessions")[0].body)
    assert body["customer_email"] == "jenny@example.com" and "customer" not in body
    assert body["success_url"] == "https://x.test/p?lang=fr&session_id={CHECKOUT_SESSION_ID}"
    assert "payment_intent_data[setup_future_usage]" not in body


def test_old_key_finds_the_session_by_metadata_instead_of_creating(
    stub: StripeStub, stubbed: StripeConnector
) -> None:
    other = stub.sample("docs_examples/checkout_session.json") | {"id": "cs_test_other", "metadata": {}}
    mine = stub.sample("docs_examples/checkout_session.json") | {
        "id": "cs_test_mine",
        "metadata": {"company": "9341452", "invoice_ids": "130,131", "payment_key": "pay:9341452:abc:1"},
    }
    path = "/v1/checkout/sessions"
    stub.mock.get(stub.url(path), json=stub.listing(path, [other, mine]))
    found = stubbed.create_checkout_session(
        _request(), idempotency_key="k", first_attempt_at=datetime.now(UTC) - timedelta(days=2)
    )
    assert found.id == "cs_test_mine"
    assert stub.calls("POST", path) == []
    assert "created[gte]" in stub.query(stub.calls("GET", path)[0].url)


def test_old_key_with_nothing_found_creates(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/checkout/sessions"
    stub.mock.get(stub.url(path), json=stub.listing(path, []))
    stub.mock.post(stub.url(path), json=stub.sample("docs_examples/checkout_session.json"))
    stubbed.create_checkout_session(
        _request(), idempotency_key="k", first_attempt_at=datetime.now(UTC) - timedelta(days=2)
    )
    assert len(stub.calls("POST", path)) == 1


def test_fresh_key_does_not_search(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/checkout/sessions"
    stub.mock.post(stub.url(path), json=stub.sample("docs_examples/checkout_session.json"))
    stubbed.create_checkout_session(
        _request(), idempotency_key="k", first_attempt_at=datetime.now(UTC) - timedelta(hours=1)
    )
    assert stub.calls("GET", path) == []


@pytest.mark.parametrize("amount", [Decimal("10.005"), Decimal("0"), Decimal("-5.00")])
def test_checkout_refuses_bad_amounts_before_any_request(
    stub: StripeStub, stubbed: StripeConnector, amount: Decimal
) -> None:
    with pytest.raises(ValidationError):
        stubbed.create_checkout_session(_request(amount=amount), idempotency_key="k")
    assert list(stub.mock.calls) == []


def test_ensure_customer_finds_existing(stub: StripeStub, stubbed: StripeConnector) -> None:
    customer = stub.sample("customer.json") | {"metadata": {"company": "9341452", "qbo_customer": "58"}}
    search = {
        "object": "search_result",
        "url": "/v1/customers/search",
        "has_more": False,
        "data": [customer],
        "next_page": None,
    }
    stub.mock.get(stub.url("/v1/customers/search"), json=search)
    assert (
        stubbed.ensure_customer(
            company="9341452", qbo_customer_id="58", name="Amy", email=None, idempotency_key="k"
        )
        == customer["id"]
    )
    query = stub.query(stub.calls("GET", "/v1/customers/search")[0].url)["query"]
    assert query == "metadata['qbo_customer']:'58' AND metadata['company']:'9341452'"
    assert stub.calls("POST", "/v1/customers") == []


def test_ensure_customer_creates_when_missing(stub: StripeStub, stubbed: StripeConnector) -> None:
    empty = {
        "object": "search_result",
        "url": "/v1/customers/search",
        "has_more": False,
        "data": [],
        "next_page": None,
    }
    stub.mock.get(stub.url("/v1/customers/search"), json=empty)
    stub.mock.post(stub.url("/v1/customers"), json=stub.sample("customer.json"))
    created = stubbed.ensure_customer(
        company="9341452",
        qbo_customer_id="58",
        name="Amy's Bird Sanctuary",
        email="amy@example.com",
        idempotency_key="cust:58",
    )
    assert created == "cus_QXg1o8vcGmoR32"
    sent = stub.calls("POST", "/v1/customers")[0]
    body = stub.form(sent.body)
    assert (body["name"], body["email"], body["metadata[qbo_customer]"], body["metadata[company]"]) == (
        "Amy's Bird Sanctuary",
        "amy@example.com",
        "58",
        "9341452",
    )
    assert sent.headers["Idempotency-Key"] == "cust:58"


def test_get_payment_intent_expands_charge_balance_txn_and_method(
    stub: StripeStub, stubbed: StripeConnector
) -> None:
    intent = stub.sample("docs_examples/payment_intent.json")
    charge = stub.sample("docs_examples/charge.json")
    charge["balance_transaction"] = stub.sample("docs_examples/balance_transaction.json") | {
        "amount": 2000,
        "fee": 88,
        "net": 1912,
        "type": "charge",
        "exchange_rate": 1.0825,
    }
    intent |= {
        "status": "succeeded",
        "amount_received": 2000,
        "latest_charge": charge,
        "payment_method": stub.sample("payment_method_card.json"),
    }
    stub.mock.get(stub.url(f"/v1/payment_intents/{intent['id']}"), json=intent)
    mapped = stubbed.get_payment_intent(intent["id"])
    assert mapped.status is PaymentIntentStatus.SUCCEEDED and mapped.payment_method_type == "card"
    assert mapped.balance_txn is not None and mapped.balance_txn.exchange_rate == Decimal("1.0825")
    assert (mapped.balance_txn.fee, mapped.balance_txn.net) == (Decimal("0.88"), Decimal("19.12"))
    sent = stub.query(stub.calls("GET", f"/v1/payment_intents/{intent['id']}")[0].url)
    assert sorted(v for k, v in sent.items() if k.startswith("expand")) == [
        "latest_charge.balance_transaction",
        "payment_method",
    ]


def _card_error(stub: StripeStub, code: str, decline_code: str | None) -> dict[str, Any]:
    intent = stub.sample("payment_intent.json") | {"status": "requires_payment_method"}
    return stub.error(
        "card_error", "Your card was declined.", code, decline_code=decline_code, payment_intent=intent
    )


@pytest.mark.parametrize(
    ("code", "decline_code", "expected"),
    [
        ("card_declined", "generic_decline", DeclinedError),
        ("card_declined", "insufficient_funds", DeclinedError),
        ("authentication_required", "authentication_required", AuthenticationRequiredError),
    ],
)
def test_off_session_declines_are_raised_once(
    stub: StripeStub, stubbed: StripeConnector, code: str, decline_code: str, expected: type[Exception]
) -> None:
    stub.nothing_created_before()
    stub.mock.post(stub.url("/v1/payment_intents"), status=402, json=_card_error(stub, code, decline_code))
    with pytest.raises(expected) as raised:
        stubbed.charge_off_session(
            customer_id="cus_1",
            payment_method_id="pm_1",
            amount=Decimal("50.00"),
            currency="USD",
            metadata={"company": "9341452", "invoice_ids": "130"},
            idempotency_key="autopay:130:1",
        )
    assert type(raised.value) is expected
    assert len(stub.calls("POST", "/v1/payment_intents")) == 1
    body = stub.form(stub.calls("POST", "/v1/payment_intents")[0].body)
    assert (body["amount"], body["currency"], body["confirm"], body["off_session"]) == (
        "5000",
        "usd",
        "true",
        "true",
    )


def test_throttling_is_retried_with_backoff(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/disputes/dp_1"
    throttled = stub.error("invalid_request_error", "Too many requests", "rate_limit")
    for _ in range(3):
        stub.mock.get(stub.url(path), status=429, json=throttled)
    stub.mock.get(stub.url(path), json=stub.sample("dispute.json"))
    assert stubbed.get_dispute("dp_1").amount == Decimal("10.00")
    assert len(stub.calls("GET", path)) == 4 and len(stub.sleeps) == 3


def test_throttling_beyond_the_bound_is_transient(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/disputes/dp_1"
    stub.mock.get(
        stub.url(path), status=429, json=stub.error("invalid_request_error", "Too many", "rate_limit")
    )
    with pytest.raises(ThrottledError):
        stubbed.get_dispute("dp_1")
    assert len(stub.calls("GET", path)) == 4


def test_server_errors_are_retried_by_the_sdk(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/refunds/re_1"
    stub.mock.get(stub.url(path), status=500, json=stub.error("api_error", "boom"))
    stub.mock.get(stub.url(path), status=503, json=stub.error("api_error", "boom"))
    stub.mock.get(stub.url(path), json=stub.sample("docs_examples/refund.json"))
    assert stubbed.get_refund("re_1").amount == Decimal("10.00")
    assert len(stub.calls("GET", path)) == 3


def test_persistent_server_errors_are_transient(stub: StripeStub, stubbed: StripeConnector) -> None:
    stub.mock.get(stub.url("/v1/refunds/re_1"), status=500, json=stub.error("api_error", "boom"))
    with pytest.raises(TransientError):
        stubbed.get_refund("re_1")


def test_bad_key_is_auth_error(stub: StripeStub, stubbed: StripeConnector) -> None:
    stub.mock.get(
        stub.url("/v1/payouts/po_1"),
        status=401,
        json=stub.error("invalid_request_error", "Invalid API Key provided"),
    )
    with pytest.raises(AuthError):
        stubbed.get_payout("po_1")


def test_missing_object_is_validation_error(stub: StripeStub, stubbed: StripeConnector) -> None:
    stub.mock.get(
        stub.url("/v1/payouts/po_x"),
        status=404,
        json=stub.error("invalid_request_error", "No such payout", "resource_missing"),
    )
    with pytest.raises(ValidationError):
        stubbed.get_payout("po_x")


def test_partial_refund_in_the_intents_currency(stub: StripeStub, stubbed: StripeConnector) -> None:
    intent = stub.sample("payment_intent.json") | {"currency": "jpy", "amount": 5000}
    stub.mock.get(stub.url(f"/v1/payment_intents/{intent['id']}"), json=intent)
    refund = stub.sample("docs_examples/refund.json") | {"currency": "jpy", "amount": 1500}
    refund["balance_transaction"] = stub.sample("balance_transaction.json") | {
        "currency": "jpy",
        "amount": -1500,
        "net": -1500,
        "type": "refund",
    }
    stub.nothing_created_before()
    stub.mock.post(stub.url("/v1/refunds"), json=refund)
    result = stubbed.refund(
        payment_intent_id=intent["id"],
        amount=Decimal("1500"),
        metadata={"company": "1"},
        idempotency_key="refund:1",
    )
    assert (result.amount, result.currency) == (Decimal("1500"), "JPY")
    assert result.balance_txn is not None and result.balance_txn.amount == Decimal("-1500")
    body = stub.form(stub.calls("POST", "/v1/refunds")[0].body)
    assert (body["amount"], body["payment_intent"], body["expand[0]"]) == (
        "1500",
        intent["id"],
        "balance_transaction",
    )


def test_payout_balance_txns_all_pages_oldest_first(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/balance_transactions"
    base = stub.sample("balance_transaction.json")
    newest = [base | {"id": f"txn_{n}", "created": 1000 + n} for n in (4, 3)]
    older = [base | {"id": f"txn_{n}", "created": 1000 + n} for n in (2, 1)]
    stub.mock.get(stub.url(path), json=stub.listing(path, newest, has_more=True))
    stub.mock.get(stub.url(path), json=stub.listing(path, older))
    found = stubbed.payout_balance_txns("po_1")
    assert [t.id for t in found] == ["txn_1", "txn_2", "txn_3", "txn_4"]
    second = stub.query(stub.calls("GET", path)[1].url)
    assert (second["payout"], second["starting_after"]) == ("po_1", "txn_3")


def test_balance_txns_window(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/balance_transactions"
    stub.mock.get(stub.url(path), json=stub.listing(path, [stub.sample("balance_transaction.json")]))
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    assert [t.id for t in stubbed.balance_txns(created_from=start, created_to=end)] == [
        "txn_1PgaxNB7WZ01zgkWEV3TLf40"
    ]
    sent = stub.query(stub.calls("GET", path)[0].url)
    assert (sent["created[gte]"], sent["created[lt]"]) == (
        str(int(start.timestamp())),
        str(int(end.timestamp())),
    )


def _event(stub: StripeStub, n: int) -> dict[str, Any]:
    event = stub.sample("event_plan_created_fixture.json")
    return event | {"id": f"evt_{n}", "created": 2000 + n}


def test_events_after_cursor_pages_forward_oldest_first(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/events"
    stub.mock.get(stub.url(path), json=stub.listing(path, [_event(stub, 3), _event(stub, 2)], has_more=True))
    stub.mock.get(stub.url(path), json=stub.listing(path, [_event(stub, 5), _event(stub, 4)]))
    found = stubbed.events_after("evt_1", since=datetime(2026, 1, 1, tzinfo=UTC))
    assert [e.id for e in found] == ["evt_2", "evt_3", "evt_4", "evt_5"]
    first, second = (stub.query(c.url) for c in stub.calls("GET", path))
    assert first["ending_before"] == "evt_1" and second["ending_before"] == "evt_3"


def test_events_after_unknown_cursor_falls_back_to_since(stub: StripeStub, stubbed: StripeConnector) -> None:
    path = "/v1/events"
    stub.mock.get(
        stub.url(path),
        status=400,
        json=stub.error("invalid_request_error", "No such event", "resource_missing"),
    )
    stub.mock.get(stub.url(path), json=stub.listing(path, [_event(stub, 9), _event(stub, 8)]))
    since = datetime(2026, 11, 20, tzinfo=UTC)
    with structlog.testing.capture_logs() as logs:
        found = stubbed.events_after("evt_gone", since=since)
    assert [e.id for e in found] == ["evt_8", "evt_9"]
    # Said once, naming the cursor given up and why.
    (said,) = [e for e in logs if e["event"] == "stripe.event_cursor_refused"]
    assert said["cursor"] == "evt_gone" and "No such event" in said["error"]
    assert stub.query(stub.calls("GET", path)[1].url)["created[gte]"] == str(int(since.timestamp()))
    assert found[0].kind is StripeEventKind.OTHER


def test_expire_is_a_no_op_on_a_finished_session(stub: StripeStub, stubbed: StripeConnector) -> None:
    done = stub.sample("docs_examples/checkout_session.json") | {
        "status": "complete",
        "payment_status": "paid",
    }
    stub.mock.get(stub.url(f"/v1/checkout/sessions/{done['id']}"), json=done)
    assert stubbed.expire_checkout_session(done["id"]).status is CheckoutStatus.COMPLETE
    assert stub.calls("POST", f"/v1/checkout/sessions/{done['id']}/expire") == []


def test_expire_an_open_session(stub: StripeStub, stubbed: StripeConnector) -> None:
    session = stub.sample("docs_examples/checkout_session.json")
    stub.mock.get(stub.url(f"/v1/checkout/sessions/{session['id']}"), json=session)
    stub.mock.post(
        stub.url(f"/v1/checkout/sessions/{session['id']}/expire"), json=session | {"status": "expired"}
    )
    assert stubbed.expire_checkout_session(session["id"]).status is CheckoutStatus.EXPIRED


def test_parse_webhook_uses_settings() -> None:
    from connectors.stripe import webhooks

    connector = StripeConnector(StripeSettings(api_key="sk_test_x", webhook_secret="whsec_a"))
    try:
        body = (
            b'{"id":"evt_1","object":"event","type":"payout.paid","created":1,"data":{"object":'
            b'{"id":"po_1","object":"payout","amount":1100,"currency":"usd","status":"paid"}}}'
        )
        import time

        event = connector.parse_webhook(body, webhooks.sign(body, "whsec_a", int(time.time())))
        assert (event.kind, event.amount, event.currency, event.paid) == (
            StripeEventKind.PAYOUT_PAID,
            Decimal("11.00"),
            "USD",
            None,
        )
    finally:
        connector.close()


def test_ensure_customer_replayed_with_new_details_waits_for_search(
    stub: StripeStub, stubbed: StripeConnector
) -> None:
    """Same key, renamed customer, Search still lagging: retry later rather than fail for good."""
    empty = {"object": "search_result", "url": "/v1/customers/search", "has_more": False, "data": []}
    stub.mock.get(stub.url("/v1/customers/search"), json=empty | {"next_page": None})
    reused = stub.error(
        "idempotency_error", "Keys for idempotent requests can only be used with the same parameters"
    )
    stub.mock.post(stub.url("/v1/customers"), status=400, json=reused)
    with pytest.raises(TransientError):
        stubbed.ensure_customer(
            company="1", qbo_customer_id="58", name="Renamed", email=None, idempotency_key="k"
        )


def test_off_session_replay_after_the_key_expired_answers_as_before(
    stub: StripeStub, stubbed: StripeConnector
) -> None:
    intent = stub.sample("payment_intent.json") | {
        "status": "requires_payment_method",
        "metadata": {"syncd_key": "autopay:130:1"},
        "last_payment_error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
        },
    }
    path = "/v1/payment_intents/search"
    stub.mock.get(stub.url(path), json=stub.search_result(path, [intent]))
    stub.mock.get(stub.url(f"/v1/payment_intents/{intent['id']}"), json=intent)
    with pytest.raises(DeclinedError) as raised:
        stubbed.charge_off_session(
            customer_id="cus_1",
            payment_method_id="pm_1",
            amount=Decimal("10.99"),
            currency="USD",
            metadata={},
            idempotency_key="autopay:130:1",
        )
    assert raised.value.code == "insufficient_funds"
    assert stub.calls("POST", "/v1/payment_intents") == []
    query = stub.query(stub.calls("GET", path)[0].url)["query"]
    assert query == "metadata['syncd_key']:'autopay:130:1'"


def test_refund_replay_finds_the_first_refund(stub: StripeStub, stubbed: StripeConnector) -> None:
    refund = stub.sample("docs_examples/refund.json") | {"metadata": {"syncd_key": "refund:1"}}
    other = stub.sample("refund.json") | {"metadata": {"syncd_key": "refund:0"}}
    stub.mock.get(stub.url("/v1/refunds"), json=stub.listing("/v1/refunds", [other, refund]))
    stub.mock.get(stub.url(f"/v1/refunds/{refund['id']}"), json=refund)
    found = stubbed.refund(payment_intent_id="pi_1", amount=None, metadata={}, idempotency_key="refund:1")
    assert found.id == refund["id"]
    assert stub.calls("POST", "/v1/refunds") == []
    assert stub.query(stub.calls("GET", "/v1/refunds")[0].url)["payment_intent"] == "pi_1"
