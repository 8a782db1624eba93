"""QboConnector over HTTP against the QBO simulator: tokens, pulls, CDC, writes, counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from intuitlib.exceptions import AuthClientError

from connectors.quickbooks.client import QboConnector
from connectors.quickbooks.oauth import make_auth_client
from connectors.quickbooks.simulator import QboSimulator
from syncd.domain import (
    InvoiceStatus,
    QboPaymentDraft,
    QboPaymentLine,
    QboPaymentReduction,
    QboPurchaseDraft,
    QboRefundDraft,
    QboTransferDraft,
)
from syncd.errors import NotReducibleError, ReconnectNeededError
from syncd.ports.quickbooks import AccountNames, QboTokens, WriteItem

Make = Callable[..., QboConnector]


def payable(sim: Any, n: int = 1) -> list[dict[str, Any]]:
    rows = [
        i
        for i in sim.entities("Invoice")
        if Decimal(str(i["Balance"])) == Decimal(str(i["TotalAmt"])) > 0
        and i["CurrencyRef"]["value"] == "USD"
    ]
    return rows[-n:]


def payment(invoice: dict[str, Any], clearing: str, amount: Decimal | None = None) -> QboPaymentDraft:
    amount = amount if amount is not None else Decimal(str(invoice["Balance"]))
    return QboPaymentDraft(
        customer_id=invoice["CustomerRef"]["value"],
        total=amount,
        currency="USD",
        txn_date=datetime.now(UTC).date(),
        deposit_account_id=clearing,
        lines=(QboPaymentLine(invoice["Id"], amount),),
        reference=f"pi_{invoice['Id']}",
        memo=f"Stripe payment for invoice {invoice['DocNumber']}",
    )


def test_restart_between_two_rotations_keeps_working(
    sim: Any, token_store: Any, make_sim_connector: Make
) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    original = token_store.load(sim.realm_id)
    first = make_sim_connector(sim, token_store)
    sim.faults.expire_access_tokens()
    assert first.company_info().name
    first.close()
    rotated = token_store.load(sim.realm_id)
    assert rotated.refresh_token != original.refresh_token

    second = make_sim_connector(sim, token_store)  # a restarted process: only the store survives
    sim.faults.expire_access_tokens()
    assert second.company_info().name
    latest = token_store.load(sim.realm_id)
    assert len({original.refresh_token, rotated.refresh_token, latest.refresh_token}) == 3
    assert first.tokens.refreshes == 1 and second.tokens.refreshes == 1

    client = make_auth_client(second.settings)
    try:
        with pytest.raises(AuthClientError):  # the oldest refresh token is dead after rotation
            client.refresh(refresh_token=original.refresh_token)
    finally:
        client.close()


def test_invalid_grant_is_reconnect_needed(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    expired = datetime.now(UTC) - timedelta(seconds=1)
    token_store.save(sim.realm_id, QboTokens("AT-unknown", "RT-revoked", expired, None))
    with pytest.raises(ReconnectNeededError):
        make_sim_connector(sim, token_store).company_info()


def test_concurrent_connectors_refresh_once(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    a, b = make_sim_connector(sim, token_store), make_sim_connector(sim, token_store)
    assert a.company_info() and b.company_info()
    sim.faults.expire_access_tokens()
    a.company_info()
    b.company_info()  # gets a 401, takes the lock, finds a's fresh pair and uses it
    assert a.tokens.refreshes + b.tokens.refreshes == 1


def test_initial_pull_request_counts(token_store: Any, make_sim_connector: Make) -> None:
    with QboSimulator(seed=3, invoices=2500) as sim:
        token_store.save_payload(sim.realm_id, sim.mint_tokens())
        qbo = make_sim_connector(sim, token_store)
        qbo.company_info()
        before = qbo.counts()
        pages = list(qbo.initial_pull())
        after = qbo.counts()
        invoices = sum(len(p.invoices) for p in pages)
        assert invoices == len(sim.entities("Invoice")) == 2500
        assert sum(len(p.customers) for p in pages) == len(sim.entities("Customer"))
        # one COUNT batch + one batch of pages (3 invoice pages + 1 customer page)
        assert (after.batches - before.batches, after.reads - before.reads) == (2, 0)
        assert [p.as_of is not None for p in pages] == [False] * (len(pages) - 1) + [True]
        served = sim.counts()
        assert (served["batch"], served["read"], served["write"]) == (
            after.batches,
            after.reads,
            after.writes,
        )
        statuses = {i.status for p in pages for i in p.invoices}
        assert {InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOIDED} <= statuses


def test_changes_since_sees_payments_voids_and_deletes(
    sim: Any, token_store: Any, make_sim_connector: Make
) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    start = datetime.now(UTC) - timedelta(seconds=2)
    paid, voided, deleted = payable(sim, 3)
    payment_id = sim.record_offline_payment(paid["Id"], Decimal(str(paid["Balance"])))
    sim.void_invoice(voided["Id"])
    sim.delete_invoice(deleted["Id"])
    before = qbo.counts()
    changes = qbo.changes_since(start, datetime.now(UTC))
    assert qbo.counts().reads - before.reads == 1
    by_id = {i.qbo_id: i for i in changes.invoices}
    assert by_id[paid["Id"]].status is InvoiceStatus.PAID
    assert by_id[voided["Id"]].status is InvoiceStatus.VOIDED
    assert deleted["Id"] in changes.deleted_invoice_ids
    assert payment_id in changes.payment_ids


def test_cdc_window_is_thirty_days(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    with pytest.raises(Exception, match="30 days"):
        qbo.changes_since(datetime.now(UTC) - timedelta(days=31), datetime.now(UTC))


def test_books_entries_land_in_the_simulator(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    books = qbo.ensure_accounts("USD", AccountNames())
    assert qbo.ensure_accounts("USD", AccountNames()) == books  # found, not created again
    assert len([a for a in sim.entities("Account") if a["Name"] == "Stripe Clearing"]) == 1
    invoice = payable(sim)[0]
    ref = qbo.create_payment(
        payment(invoice, books.clearing.qbo_id), request_id=f"qbo:payment:pi_{invoice['Id']}"
    )
    stored = sim.entity("Payment", ref.qbo_id)
    assert stored is not None and stored["DepositToAccountRef"]["value"] == books.clearing.qbo_id
    assert Decimal(str(sim.entity("Invoice", invoice["Id"])["Balance"])) == 0
    today = datetime.now(UTC).date()
    fee = qbo.create_purchase(
        QboPurchaseDraft(
            books.stripe_vendor.qbo_id, books.clearing.qbo_id, books.fee_expense.qbo_id,
            amount=Decimal("2.93"), currency="USD", txn_date=today, memo="Stripe fee", reference="txn_1",
        ),
        request_id="qbo:fee:txn_1",
    )  # fmt: skip
    assert sim.entity("Purchase", fee.qbo_id)["PaymentType"] == "Cash"
    bank = next(
        a for a in sim.entities("Account") if a.get("AccountType") == "Bank" and a["Name"] == "Checking"
    )
    transfer = qbo.create_transfer(
        QboTransferDraft(
            books.clearing.qbo_id,
            bank["Id"],
            amount=Decimal("97.07"),
            currency="USD",
            txn_date=today,
            memo="Payout",
            reference="po_1",
        ),
        request_id="qbo:payout:po_1",
    )
    assert Decimal(str(sim.entity("Transfer", transfer.qbo_id)["Amount"])) == Decimal("97.07")
    income = next(a for a in sim.entities("Account") if a.get("AccountType") == "Income")
    refund = qbo.create_refund(
        QboRefundDraft(
            invoice["CustomerRef"]["value"], books.clearing.qbo_id, income["Id"],
            amount=Decimal("5.00"), currency="USD", txn_date=today, memo="Refund", reference="re_1",
        ),
        request_id="qbo:refund:re_1",
    )  # fmt: skip
    assert sim.entity("RefundReceipt", refund.qbo_id)["DepositToAccountRef"]["value"] == books.clearing.qbo_id
    voided = qbo.void_payment(ref.qbo_id, request_id=f"qbo:void:{ref.qbo_id}")
    assert int(voided.sync_token) > int(ref.sync_token)
    assert Decimal(str(sim.entity("Invoice", invoice["Id"])["Balance"])) > 0  # reopened


def test_write_batch_of_thirty_payments(token_store: Any, make_sim_connector: Make) -> None:
    with QboSimulator(seed=1, invoices=200) as sim:
        _write_batch_of_thirty_payments(sim, token_store, make_sim_connector)


def _write_batch_of_thirty_payments(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    clearing = qbo.ensure_accounts("USD", AccountNames()).clearing.qbo_id
    invoices = payable(sim, 30)
    assert len(invoices) == 30
    items = [
        WriteItem(f"qbo:payment:batch-{i['Id']}", payment(i, clearing, Decimal("1.00"))) for i in invoices
    ]
    items[5] = WriteItem("qbo:payment:bad", payment(invoices[5], clearing, Decimal("999999.00")))
    before = qbo.counts()
    results = qbo.write_batch(items)
    assert qbo.counts().batches - before.batches == 1
    assert isinstance(results[5], Exception)
    assert all(not isinstance(r, Exception) for i, r in enumerate(results) if i != 5)
    payments = len(sim.entities("Payment"))
    replayed = qbo.write_batch(items)
    assert [r for r in replayed if not isinstance(r, Exception)] == [
        r for r in results if not isinstance(r, Exception)
    ]
    assert len(sim.entities("Payment")) == payments  # the replayed batch created nothing


def test_invoice_link_and_pdf(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    invoice_id = payable(sim)[0]["Id"]
    url = "https://pay.example.com/i/abcDEF123"
    ref = qbo.set_invoice_link(invoice_id, url, request_id=f"qbo:link:{invoice_id}")
    assert url in sim.entity("Invoice", invoice_id)["CustomerMemo"]["value"]
    writes = qbo.counts().writes
    assert (
        qbo.set_invoice_link(invoice_id, url, request_id=f"qbo:link:{invoice_id}").sync_token
        == ref.sync_token
    )
    assert qbo.counts().writes == writes  # already there: nothing written
    assert qbo.invoice_pdf(invoice_id).startswith(b"%PDF")


def test_timeouts_are_retried_and_writes_stay_single(
    sim: Any, token_store: Any, make_sim_connector: Make
) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            sim.faults.timeout_rate = 0.0

    qbo = make_sim_connector(sim, token_store, sleep)
    qbo.transport.timeout = 0.3
    sim.faults.timeout_seconds = 0.6
    sim.faults.timeout_rate = 1.0
    invoice = payable(sim)[0]
    before = len(sim.entities("Payment"))
    ref = qbo.create_payment(
        payment(invoice, "4", Decimal("1.00")), request_id=f"qbo:payment:timeout-{invoice['Id']}"
    )
    assert len(slept) == 2 and ref.qbo_id
    assert len(sim.entities("Payment")) == before + 1
    # The abandoned requests still hold simulator in-flight slots until they time out server-side.
    time.sleep(sim.faults.timeout_seconds + 0.2)


def test_many_threads_stay_within_ten_in_flight(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    invoice_id = payable(sim)[0]["Id"]
    sim.faults.latency_seconds = 0.1
    errors: list[BaseException] = []

    def read() -> None:
        try:
            qbo.get_invoice(invoice_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    counts = qbo.counts()
    assert (counts.throttled, counts.reads, counts.batches) == (0, 30, 1), counts


def test_foreign_currency_gets_its_own_clearing_account(
    sim: Any, token_store: Any, make_sim_connector: Make
) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    usd = qbo.ensure_accounts("USD", AccountNames())
    cad = qbo.ensure_accounts("cad", AccountNames())
    assert cad.clearing.name == "Stripe Clearing CAD" and cad.clearing != usd.clearing
    assert (cad.fee_expense, cad.stripe_vendor) == (usd.fee_expense, usd.stripe_vendor)
    assert sim.entity("Account", cad.clearing.qbo_id)["CurrencyRef"]["value"] == "CAD"
    assert sim.entity("Account", usd.clearing.qbo_id)["AccountType"] == "Bank"


def test_deposit_and_entry_reads_for_the_audit(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    from syncd.domain import QboDepositDraft

    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    books = qbo.ensure_accounts("USD", AccountNames())
    assert books.refund_income is not None
    today = datetime.now(UTC).date()
    ref = qbo.create_deposit(
        QboDepositDraft(
            books.clearing.qbo_id,
            books.fee_expense.qbo_id,
            amount=Decimal("15.00"),
            currency="USD",
            txn_date=today,
            memo="Won",
            reference="du_1",
        ),
        request_id="qbo:dispute-won:du_1",
    )
    entry = qbo.get_entry("Deposit", ref.qbo_id)
    assert entry is not None
    assert (entry.amount, entry.account_id, entry.voided) == (Decimal("15.00"), books.clearing.qbo_id, False)
    assert qbo.get_entry("Deposit", "99999999") is None


def test_a_reduction_reopens_the_invoice_once(sim: Any, token_store: Any, make_sim_connector: Make) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    books = qbo.ensure_accounts("USD", AccountNames())
    invoice = payable(sim)[0]
    total = Decimal(str(invoice["Balance"]))
    ref = qbo.create_payment(
        payment(invoice, books.clearing.qbo_id), request_id=f"qbo:payment:{invoice['Id']}"
    )
    cut = QboPaymentReduction(ref.qbo_id, "re_sim1", Decimal("7.50"))
    sim.faults.stale_next(1)  # a bookkeeper's edit got in between: re-read and go again
    qbo.reduce_payment(cut, request_id="qbo:refund:re_sim1")
    again = qbo.reduce_payment(cut, request_id="qbo:refund:re_sim1#replayed-after-a-crash")
    stored = sim.entity("Payment", ref.qbo_id)
    assert again.sync_token == stored["SyncToken"]  # nothing written the second time
    assert Decimal(str(stored["TotalAmt"])) == total - Decimal("7.50")
    assert Decimal(str(sim.entity("Invoice", invoice["Id"])["Balance"])) == Decimal("7.50")
    entry = qbo.get_entry("Payment", ref.qbo_id)
    assert entry is not None and entry.amount == total - Decimal("7.50") and not entry.voided
    qbo.void_payment(ref.qbo_id, request_id=f"qbo:void:{ref.qbo_id}")
    with pytest.raises(NotReducibleError, match="voided"):
        qbo.reduce_payment(QboPaymentReduction(ref.qbo_id, "re_sim2", Decimal("1.00")), request_id="r2")
