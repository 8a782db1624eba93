"""One suite, two backends: the `responses` stub built from the published samples and the simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from samples import QBO_SAMPLES

from connectors.quickbooks.client import QboConnector
from syncd.domain import InvoiceStatus, QboPaymentDraft, QboPaymentLine

THROTTLE = (QBO_SAMPLES / "throttle_429.xml").read_text()


@dataclass
class Backend:
    connector: QboConnector
    slept: list[float]
    open_invoice: tuple[str, str, Decimal]  # id, customer id, balance
    throttle: Callable[[int], None]
    fail_5xx: Callable[[int], None]
    unauthorized: Callable[[int], None]
    stale: Callable[[int], None]
    payments: Callable[[], int]
    payment_to_void: Callable[[QboConnector], str]


@pytest.fixture(params=["stub", "sim"])
def backend(request: pytest.FixtureRequest, token_store: Any) -> Iterator[Backend]:
    slept: list[float] = []
    if request.param == "stub":
        stub = request.getfixturevalue("stub")
        token_store.save(stub.realm, stub.tokens())
        with request.getfixturevalue("make_stub_connector")(token_store, slept) as qbo:

            def queue(status: int, body: str) -> Callable[[int], None]:
                return lambda n: stub.queue.extend([(status, body, {})] * n)

            def stub_unauthorized(n: int) -> None:
                stub.access_tokens = set()

            def stale(n: int) -> None:
                stub.stale_next = n

            yield Backend(
                qbo,
                slept,
                ("264", "1", Decimal("100.00")),
                queue(429, THROTTLE),
                queue(503, "unavailable"),
                stub_unauthorized,
                stale,
                lambda: len(stub.created),
                lambda _: "123",
            )
        return
    sim = request.getfixturevalue("sim")
    token_store.save_payload(sim.realm_id, sim.mint_tokens())

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if sim.faults.error_rate and len(slept) >= burst[0]:
            sim.faults.error_rate = 0.0

    burst = [0]

    def fail_5xx(n: int) -> None:
        burst[0] = len(slept) + n
        sim.faults.error_rate = 1.0

    qbo = request.getfixturevalue("make_sim_connector")(sim, token_store, sleep)
    invoice = next(
        i for i in sim.entities("Invoice") if Decimal(str(i["Balance"])) == Decimal(str(i["TotalAmt"])) > 0
    )

    def payment_to_void(connector: QboConnector) -> str:
        return str(sim.record_offline_payment(invoice["Id"], Decimal("1.00")))

    yield Backend(
        qbo,
        slept,
        (invoice["Id"], invoice["CustomerRef"]["value"], Decimal(str(invoice["Balance"]))),
        sim.faults.throttle_next,
        fail_5xx,
        sim.faults.unauthorized_next,
        sim.faults.stale_next,
        lambda: len(sim.entities("Payment")),
        payment_to_void,
    )


def test_reads_an_open_invoice_and_a_missing_one(backend: Backend) -> None:
    invoice_id, customer_id, balance = backend.open_invoice
    invoice = backend.connector.get_invoice(invoice_id)
    assert invoice is not None
    assert (invoice.qbo_id, invoice.customer_id, invoice.balance) == (invoice_id, customer_id, balance)
    assert invoice.status is InvoiceStatus.OPEN
    assert backend.connector.get_invoice("99999999") is None


def test_replayed_requestid_creates_one_payment(backend: Backend) -> None:
    invoice_id, customer_id, _ = backend.open_invoice
    draft = QboPaymentDraft(
        customer_id=customer_id,
        total=Decimal("1.00"),
        currency="USD",
        txn_date=datetime.now(UTC).date(),
        deposit_account_id="4",
        lines=(QboPaymentLine(invoice_id, Decimal("1.00")),),
        reference="pi_shared",
        memo="Stripe pi_shared",
    )
    before = backend.payments()
    first = backend.connector.create_payment(draft, request_id="qbo:payment:pi_shared_suite")
    second = backend.connector.create_payment(draft, request_id="qbo:payment:pi_shared_suite")
    assert first == second
    assert backend.payments() == before + 1


def test_throttle_storm_recovers(backend: Backend) -> None:
    backend.throttle(20)
    assert backend.connector.get_invoice(backend.open_invoice[0]) is not None
    assert backend.connector.counts().throttled == 20
    assert len(backend.slept) == 20


def test_5xx_burst_recovers(backend: Backend) -> None:
    backend.fail_5xx(3)
    assert backend.connector.get_invoice(backend.open_invoice[0]) is not None
    assert len(backend.slept) == 3


def test_401_refreshes_once_then_works(backend: Backend, token_store: Any) -> None:
    before = token_store.load(backend.connector.realm_id)
    backend.unauthorized(1)
    assert backend.connector.get_invoice(backend.open_invoice[0]) is not None
    after = token_store.load(backend.connector.realm_id)
    assert after.refresh_token != before.refresh_token
    assert backend.connector.tokens.refreshes == 1


def test_stale_sync_token_is_retried(backend: Backend) -> None:
    payment_id = backend.payment_to_void(backend.connector)
    backend.stale(1)
    ref = backend.connector.void_payment(payment_id, request_id=f"void:{payment_id}")
    assert ref.entity == "Payment" and ref.qbo_id == payment_id
