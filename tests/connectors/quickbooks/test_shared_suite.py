"""One suite, three backends: the connector over the `responses` stub built from the published samples
and over the simulator, and the in-memory fake (``fakes.quickbooks``) — the Protocol's contract. The
HTTP faults (throttling, 5xx, 401, stale SyncToken) are the connector's alone."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fakes.quickbooks import FakeQuickBooks
from samples import QBO_SAMPLES

from syncd.domain import InvoiceStatus, QboEntryRef, QboPaymentDraft, QboPaymentLine
from syncd.errors import OpenBalanceError, PermanentError, ValidationError
from syncd.ports.quickbooks import AccountNames, QuickBooks, WriteItem

THROTTLE = (QBO_SAMPLES / "throttle_429.xml").read_text()
# The faults only a connector over HTTP meets.
OVER_HTTP = pytest.mark.parametrize("backend", ["stub", "sim"], indirect=True)


@dataclass
class Backend:
    connector: QuickBooks
    slept: list[float]
    open_invoice: tuple[str, str, Decimal]  # id, customer id, balance
    throttle: Callable[[int], None]
    fail_5xx: Callable[[int], None]
    unauthorized: Callable[[int], None]
    stale: Callable[[int], None]
    payments: Callable[[], int]
    payment_to_void: Callable[[QuickBooks], str]


def _no_http(n: int) -> None:
    raise AssertionError("the fake has no HTTP to fault: mark the test OVER_HTTP")


def _fake() -> Backend:
    fake = FakeQuickBooks()
    customer = fake.add_customer("Shared Suite Ltd", "ap@shared.example")
    invoice = fake.add_invoice(customer, Decimal("100.00"))

    def payment_to_void(connector: QuickBooks) -> str:
        draft = _draft(invoice.qbo_id, customer.qbo_id, "pi_to_void")
        return fake.create_payment(draft, request_id="offline").qbo_id

    return Backend(
        fake,
        [],
        (invoice.qbo_id, customer.qbo_id, invoice.balance),
        _no_http,
        _no_http,
        _no_http,
        _no_http,
        lambda: sum(entity == "Payment" for entity, _ in fake.entries),
        payment_to_void,
    )


def _draft(invoice_id: str, customer_id: str, reference: str) -> QboPaymentDraft:
    return QboPaymentDraft(
        customer_id=customer_id,
        total=Decimal("1.00"),
        currency="USD",
        txn_date=datetime.now(UTC).date(),
        deposit_account_id="4",
        lines=(QboPaymentLine(invoice_id, Decimal("1.00")),),
        reference=reference,
        memo=f"Stripe {reference}",
    )


@pytest.fixture(params=["stub", "sim", "fake"])
def backend(request: pytest.FixtureRequest, token_store: Any) -> Iterator[Backend]:
    if request.param == "fake":
        yield _fake()
        return
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

    def payment_to_void(connector: QuickBooks) -> str:
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
    draft = _draft(invoice_id, customer_id, "pi_shared")
    before = backend.payments()
    first = backend.connector.create_payment(draft, request_id="qbo:payment:pi_shared_suite")
    second = backend.connector.create_payment(draft, request_id="qbo:payment:pi_shared_suite")
    assert first == second
    assert backend.payments() == before + 1


@OVER_HTTP
def test_throttle_storm_recovers(backend: Backend) -> None:
    backend.throttle(20)
    assert backend.connector.get_invoice(backend.open_invoice[0]) is not None
    assert backend.connector.counts().throttled == 20
    assert len(backend.slept) == 20


@OVER_HTTP
def test_5xx_burst_recovers(backend: Backend) -> None:
    backend.fail_5xx(3)
    assert backend.connector.get_invoice(backend.open_invoice[0]) is not None
    assert len(backend.slept) == 3


@OVER_HTTP
def test_401_refreshes_once_then_works(backend: Backend, token_store: Any) -> None:
    before = token_store.load(backend.connector.realm_id)
    backend.unauthorized(1)
    assert backend.connector.get_invoice(backend.open_invoice[0]) is not None
    after = token_store.load(backend.connector.realm_id)
    assert after.refresh_token != before.refresh_token
    assert backend.connector.tokens.refreshes == 1


@OVER_HTTP
def test_stale_sync_token_is_retried(backend: Backend) -> None:
    payment_id = backend.payment_to_void(backend.connector)
    backend.stale(1)
    ref = backend.connector.void_payment(payment_id, request_id=f"void:{payment_id}")
    assert ref.entity == "Payment" and ref.qbo_id == payment_id


def test_write_batch_answers_each_item_in_order_and_replays(backend: Backend) -> None:
    invoice_id, customer_id, _ = backend.open_invoice
    items = [WriteItem(f"qbo:payment:batch-{n}", _draft(invoice_id, customer_id, f"pi_b{n}")) for n in (1, 2)]
    before = backend.connector.counts().batches
    first = backend.connector.write_batch(items)
    assert backend.connector.counts().batches == before + 1
    assert len(first) == 2
    assert all(isinstance(r, QboEntryRef) and r.entity == "Payment" for r in first)
    assert backend.connector.write_batch(items) == first  # the same batch replayed: the same entries
    assert backend.connector.write_batch([]) == []
    with pytest.raises(PermanentError):
        backend.connector.write_batch(items * 16)  # 32 items: QBO takes at most 30 per batch


# Scenarios the stub cannot stage: the simulator and the fake keep books, and must agree.
STATEFUL = pytest.mark.parametrize("backend", ["sim", "fake"], indirect=True)


@STATEFUL
def test_accounts_are_found_or_created_once(backend: Backend) -> None:
    first = backend.connector.ensure_accounts("USD", AccountNames(bank="Checking"))
    again = backend.connector.ensure_accounts("USD", AccountNames(bank="Checking"))
    assert first == again
    assert first.bank is not None and first.bank.name == "Checking"
    with pytest.raises(ValidationError):  # a currency the company has not enabled
        backend.connector.ensure_accounts("EUR", AccountNames(bank="Checking"))


@STATEFUL
def test_a_booked_payment_lowers_the_invoice_and_its_void_reopens_it(backend: Backend) -> None:
    invoice_id, customer_id, balance = backend.open_invoice
    clearing = backend.connector.ensure_accounts("USD", AccountNames()).clearing.qbo_id
    draft = dataclasses.replace(_draft(invoice_id, customer_id, "pi_booked"), deposit_account_id=clearing)
    booked = backend.connector.book_payment(draft, request_id="qbo:payment:pi_booked")
    assert booked.lines == draft.lines and booked.unapplied == 0
    invoice = backend.connector.get_invoice(invoice_id)
    assert invoice is not None and invoice.balance == balance - Decimal("1.00")
    assert invoice.status is InvoiceStatus.PARTIAL
    backend.connector.void_payment(booked.entry.qbo_id, request_id=f"void:{booked.entry.qbo_id}")
    reopened = backend.connector.get_invoice(invoice_id)
    assert reopened is not None and reopened.balance == balance
    entry = backend.connector.get_entry("Payment", booked.entry.qbo_id)
    assert entry is not None and entry.voided


@STATEFUL
def test_a_line_over_the_open_balance_books_nothing(backend: Backend) -> None:
    invoice_id, customer_id, balance = backend.open_invoice
    clearing = backend.connector.ensure_accounts("USD", AccountNames()).clearing.qbo_id
    over = QboPaymentLine(invoice_id, balance + Decimal("1.00"))
    draft = dataclasses.replace(
        _draft(invoice_id, customer_id, "pi_over"),
        deposit_account_id=clearing,
        total=over.amount,
        lines=(over,),
    )
    before = backend.payments()
    with pytest.raises(OpenBalanceError):
        backend.connector.book_payment(draft, request_id="qbo:payment:pi_over")
    assert backend.payments() == before
