"""QboConnector over `responses` stubs that answer with the published QBO samples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import pytest
from samples import QBO_SAMPLES

from connectors.quickbooks.client import QboConnector
from syncd.domain import InvoiceStatus, QboPaymentDraft, QboPaymentLine
from syncd.errors import (
    AuthError,
    PermanentError,
    ReconnectNeededError,
    StaleObjectError,
    ThrottledError,
    TransientError,
    ValidationError,
)
from syncd.ports.quickbooks import WriteItem

CONTRACTS = QBO_SAMPLES
THROTTLE = (CONTRACTS / "throttle_429.xml").read_text()


@pytest.fixture
def qbo(stub: Any, token_store: Any, make_stub_connector: Any) -> Iterator[QboConnector]:
    token_store.save(stub.realm, stub.tokens())
    with make_stub_connector(token_store) as c:
        yield c


def draft(invoice_id: str = "264") -> QboPaymentDraft:
    return QboPaymentDraft(
        customer_id="1",
        total=Decimal("100.00"),
        currency="USD",
        txn_date=datetime(2026, 1, 2, tzinfo=UTC).date(),
        deposit_account_id="90",
        lines=(QboPaymentLine(invoice_id, Decimal("100.00")),),
        reference="pi_123",
        memo="Stripe pi_123",
    )


def test_initial_pull_of_the_sample_dump_costs_two_batch_calls(qbo: QboConnector, stub: Any) -> None:
    pages = list(qbo.initial_pull())
    assert [len(p.customers) for p in pages] == [1, 0]
    assert len(pages[1].invoices) == 31
    assert pages[0].as_of is None and pages[1].as_of == datetime(2024, 7, 16, 17, 0, tzinfo=UTC)
    assert qbo.counts().batches == 2 and qbo.counts().reads == 0
    params = stub.seen[0][2]
    assert params["minorversion"] == ["75"]


def test_get_invoice_and_missing_invoice(qbo: QboConnector) -> None:
    invoice = qbo.get_invoice("264")
    assert (
        invoice is not None and invoice.status is InvoiceStatus.OPEN and invoice.balance == Decimal("100.00")
    )
    assert qbo.get_invoice("999") is None


def test_create_payment_carries_the_requestid_and_replays(qbo: QboConnector, stub: Any) -> None:
    first = qbo.create_payment(draft(), request_id="qbo:payment:pi_123")
    again = qbo.create_payment(draft(), request_id="qbo:payment:pi_123")
    assert first == again and first.entity == "Payment"
    assert len(stub.created) == 1
    method, path, query = stub.seen[-1]
    assert (method, path, query["requestid"]) == ("POST", "/payment", ["qbo:payment:pi_123"])


def test_throttle_storm_is_retried_with_backoff(
    stub: Any, token_store: Any, make_stub_connector: Any
) -> None:
    token_store.save(stub.realm, stub.tokens())
    slept: list[float] = []
    stub.queue = [(429, THROTTLE, {"Content-Type": "application/xml"})] * 20
    with make_stub_connector(token_store, slept) as qbo:
        assert qbo.get_invoice("264") is not None
        assert qbo.counts().throttled == 20 and qbo.counts().reads == 21
    assert len(slept) == 20


def test_retry_after_is_honoured_and_storms_are_bounded(
    stub: Any, token_store: Any, make_stub_connector: Any
) -> None:
    token_store.save(stub.realm, stub.tokens())
    slept: list[float] = []
    stub.queue = [(429, THROTTLE, {"Retry-After": "7"})] * 40
    with (
        make_stub_connector(token_store, slept, max_throttle_retries=5) as qbo,
        pytest.raises(ThrottledError),
    ):
        qbo.get_invoice("264")
    # The hint is a floor under the policy's own wait (at most 8 s by the fifth retry).
    assert len(slept) == 5 and all(7.0 <= s <= 8.0 for s in slept)


def test_retry_after_as_an_http_date_is_honoured(
    stub: Any, token_store: Any, make_stub_connector: Any
) -> None:
    token_store.save(stub.realm, stub.tokens())
    slept: list[float] = []
    when = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    stub.queue = [(429, THROTTLE, {"Retry-After": when})]
    with make_stub_connector(token_store, slept) as qbo:
        assert qbo.get_invoice("264") is not None
    assert len(slept) == 1 and 100 < slept[0] <= 120


def test_legacy_403_throttle_is_throttling(stub: Any, token_store: Any, make_stub_connector: Any) -> None:
    token_store.save(stub.realm, stub.tokens())
    stub.queue = [(403, (CONTRACTS / "throttle_403_legacy.xml").read_text(), {})]
    with make_stub_connector(token_store) as qbo:
        assert qbo.get_invoice("264") is not None
        assert qbo.counts().throttled == 1


def test_5xx_burst_recovers_and_a_long_outage_is_transient(
    stub: Any, token_store: Any, make_stub_connector: Any
) -> None:
    token_store.save(stub.realm, stub.tokens())
    stub.queue = [(503, "down", {})] * 3
    with make_stub_connector(token_store) as qbo:
        assert qbo.get_invoice("264") is not None
        stub.queue = [(500, "down", {})] * 10
        with pytest.raises(TransientError):
            qbo.get_invoice("264")


def test_validation_fault_is_permanent_with_the_message(stub: Any, qbo: QboConnector) -> None:
    stub.queue = [(400, (CONTRACTS / "fault_validation.json").read_text(), {})]
    with pytest.raises(ValidationError, match="Duplicate Name Exists"):
        qbo.create_payment(draft(), request_id="k1")


def test_401_refreshes_once_and_persists_the_rotated_token_first(
    stub: Any, qbo: QboConnector, token_store: Any
) -> None:
    stub.access_tokens = set()  # QBO revoked the access token early
    stub.queue = []

    def rotate_then_accept() -> None:
        stub.access_tokens = {"AT-1"}

    original = stub._token

    def token(request: object) -> tuple[int, dict[str, str], str]:
        answer: tuple[int, dict[str, str], str] = original(request)
        rotate_then_accept()
        return answer

    stub.mock.remove("POST", stub.token_url)
    stub.mock.add_callback("POST", stub.token_url, callback=token)
    assert qbo.get_invoice("264") is not None
    saved = token_store.load(stub.realm)
    assert saved is not None and saved.refresh_token == "RT-1" and saved.access_token == "AT-1"
    assert stub.refresh_tokens == {"RT-1"}


def test_persistent_401_is_an_auth_error(stub: Any, qbo: QboConnector) -> None:
    stub.always_401 = True
    with pytest.raises(AuthError):
        qbo.get_invoice("264")
    assert stub.refreshes == 1


def test_invalid_grant_needs_a_reconnect(stub: Any, token_store: Any, make_stub_connector: Any) -> None:
    stale = stub.tokens()
    token_store.save(
        stub.realm,
        type(stale)("AT-0", "RT-revoked", datetime.now(UTC) - timedelta(minutes=1), None),
    )
    with make_stub_connector(token_store) as qbo, pytest.raises(ReconnectNeededError):
        qbo.get_invoice("264")


def test_never_connected_company_needs_a_reconnect(
    stub: Any, token_store: Any, make_stub_connector: Any
) -> None:
    with make_stub_connector(token_store) as qbo, pytest.raises(ReconnectNeededError):
        qbo.get_invoice("264")


def test_expiring_token_is_refreshed_before_use(
    stub: Any, token_store: Any, make_stub_connector: Any
) -> None:
    token_store.save(
        stub.realm, type(stub.tokens())("AT-0", "RT-0", datetime.now(UTC) + timedelta(seconds=30), None)
    )
    with make_stub_connector(token_store) as qbo:
        assert qbo.get_invoice("264") is not None
    assert stub.refreshes == 1 and [t.refresh_token for t in token_store.history][-1] == "RT-1"


def test_stale_sync_token_on_void_is_reread_and_retried(stub: Any, qbo: QboConnector) -> None:
    stale: tuple[int, str, dict[str, str]] = (400, (CONTRACTS / "fault_stale_object.json").read_text(), {})
    payment = json.dumps({"Payment": {"Id": "123", "SyncToken": "0"}})
    voided = json.dumps({"Payment": {"Id": "123", "SyncToken": "2"}})
    stub.queue = [(200, payment, {}), stale, (200, payment, {}), (200, voided, {})]
    ref = qbo.void_payment("123", request_id="void:123")
    assert ref.sync_token == "2"
    posts = [q for m, p, q in stub.seen if m == "POST"]
    assert (posts[0]["operation"], posts[0]["include"]) == (["update"], ["void"]) and posts[0][
        "requestid"
    ] != posts[1]["requestid"]
    stub.queue = [(200, payment, {}), stale] * 5
    with pytest.raises(StaleObjectError):
        qbo.void_payment("123", request_id="void:124")


def test_write_batch_maps_each_item(stub: Any, qbo: QboConnector) -> None:
    results = qbo.write_batch([WriteItem("a", draft()), WriteItem("b", draft("265"))])
    assert [r.entity for r in results if not isinstance(r, Exception)] == ["Payment", "Payment"]
    assert qbo.counts().batches == 1
    with pytest.raises(PermanentError):
        qbo.write_batch([WriteItem(str(i), draft()) for i in range(31)])
    assert qbo.write_batch([]) == []
