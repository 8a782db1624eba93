"""python-quickbooks 0.9.12 and intuit-oauth, pointed at the simulator exactly as at real QBO."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import AuthorizationException, ObjectNotFoundException, QuickbooksException
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.vendor import Vendor

from connectors.quickbooks.simulator import QboSimulator


@pytest.fixture
def qb(sim: QboSimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickBooks]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the simulator speaks plain http on loopback
    tokens = sim.mint_tokens()
    auth = AuthClient(
        "sim-client",
        "sim-secret",
        "http://127.0.0.1:9/cb",
        sim.discovery_url,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )
    client = QuickBooks(
        auth_client=auth, refresh_token=tokens["refresh_token"], company_id=sim.realm_id, minorversion=75
    )
    client.api_url_v3 = sim.api_base_url
    yield client
    client._drop()


def test_reads_queries_and_counts(qb: QuickBooks, sim: QboSimulator) -> None:
    invoices = Invoice.all(max_results=1000, qb=qb)
    assert len(invoices) == 40
    assert Invoice.count(qb=qb) == 40
    one = Invoice.get(invoices[0].Id, qb=qb)
    assert one.DocNumber == invoices[0].DocNumber and one.CustomerRef.value
    open_ones = Invoice.where("Balance > '0'", qb=qb)
    assert all(Decimal(str(i.Balance)) > 0 for i in open_ones)
    customers = Customer.filter(DisplayName=Customer.all(qb=qb)[0].DisplayName, qb=qb)
    assert len(customers) == 1
    with pytest.raises(ObjectNotFoundException):
        Invoice.get("999999", qb=qb)


def test_payment_linked_to_invoice_and_void(qb: QuickBooks, sim: QboSimulator) -> None:
    invoice_id = sim.add_invoice(amount=Decimal("64.00"))
    invoice = Invoice.get(invoice_id, qb=qb)
    payment = Payment()
    payment.TotalAmt = 64.0
    payment.CustomerRef = invoice.CustomerRef
    line = PaymentLine()
    line.Amount = 64.0
    linked = LinkedTxn()
    linked.TxnId = invoice_id
    linked.TxnType = "Invoice"
    line.LinkedTxn.append(linked)
    payment.Line.append(line)
    saved = payment.save(qb=qb, request_id="pay-64")
    assert saved.Id and saved.SyncToken == "0" and saved.UnappliedAmt == 0
    assert Decimal(str(Invoice.get(invoice_id, qb=qb).Balance)) == 0
    saved.void(qb=qb)
    assert Decimal(str(Invoice.get(invoice_id, qb=qb).Balance)) == Decimal("64.00")


def test_cdc_batch_pdf_and_faults(qb: QuickBooks, sim: QboSimulator, clock: Any) -> None:
    since = clock.now - timedelta(minutes=1)
    sim.add_invoice(amount=Decimal("9.00"))
    changes = change_data_capture([Invoice, Customer], since, qb=qb)
    assert len(changes.Invoice) == 1
    vendors = []
    for n in range(3):
        vendor = Vendor()
        vendor.DisplayName = f"Batch Vendor {n}"
        vendors.append(vendor)
    result = batch_create(vendors, qb=qb)
    assert len(result.successes) == 3 and not result.faults
    pdf = Invoice.get(sim.entities("Invoice")[0]["Id"], qb=qb).download_pdf(qb=qb)
    assert pdf.startswith(b"%PDF")
    duplicate = Vendor()
    duplicate.DisplayName = "Batch Vendor 0"
    with pytest.raises(QuickbooksException, match="Duplicate Name"):
        duplicate.save(qb=qb)
    sim.faults.unauthorized_next(1)
    with pytest.raises(AuthorizationException):
        Invoice.count(qb=qb)


def test_ref_helper_type_is_usable() -> None:
    ref = Ref()
    ref.value = "1"
    assert ref.value == "1"
