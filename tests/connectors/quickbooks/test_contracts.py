"""Every published QBO sample goes through the connector's parsers and error mapping."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from samples import QBO_SAMPLES

from connectors.quickbooks.errors import (
    QboNotFoundError,
    error_for_fault,
    error_for_response,
    fault_from_json,
    parse_fault,
)
from connectors.quickbooks.mapping import parse_time, query_rows, to_customer, to_invoice
from connectors.quickbooks.pull import CDC_MAX_ROWS, batch_items, changes_from_cdc, deleted_ids_from_cdc_xml
from connectors.quickbooks.recurring import to_template, unwrapped
from connectors.quickbooks.writes import entry_ref, payment_body
from syncd.domain import InvoiceStatus, QboPaymentDraft, QboPaymentLine
from syncd.errors import (
    AuthError,
    PermanentError,
    StaleObjectError,
    ThrottledError,
    TransientError,
    ValidationError,
)

CONTRACTS = QBO_SAMPLES


def load(name: str) -> dict[str, Any]:
    # As the SDK reads answers (use_decimal): amounts never pass through float.
    doc: dict[str, Any] = json.loads((CONTRACTS / name).read_text(), parse_float=Decimal)
    return doc


def test_every_sample_is_covered_by_a_test_here() -> None:
    covered = {
        "batch_request.json", "batch_response.json", "cdc_response.json", "cdc_response_with_deleted.xml",
        "customer_read.json", "deposit.xml", "fault_auth_401.json", "fault_query_400.json",
        "fault_stale_object.json", "fault_unsupported_property_400.json", "fault_validation.json",
        "invoice_create_request.json", "invoice_create_response.json", "invoice_delete_response.json",
        "invoice_query_response.json", "invoice_read.json", "invoice_void_request.json",
        "invoice_voided.json", "oauth_token_response.json", "payment_create_request.json",
        "payment_create_response.json", "payment_linked_to_invoice.xml", "purchase_create_response.json",
        "purchase_entity_sandbox_2025.json", "refund_receipt_read.xml", "throttle_403_legacy.xml",
        "throttle_429.xml", "transfer.xml", "webhook_cloudevents.json", "webhook_legacy.json",
        "webhook_legacy_signed_dotnet.raw.json", "webhook_legacy_signed_dotnet.signature.json",
        "recurring_transaction_query.json",
    }  # fmt: skip
    assert {p.name for p in CONTRACTS.iterdir() if p.suffix in (".json", ".xml")} <= covered


def test_recurring_templates_map_from_the_wrapped_query_rows() -> None:
    # Assembled by syncd (see PROVENANCE.md): held to the shape, field by field in test_recurring.py.
    rows = query_rows(load("recurring_transaction_query.json"), "RecurringTransaction")
    inner = [unwrapped(row) for row in rows]
    templates = [to_template(row, home_currency="USD") for row in inner if row is not None]
    assert [(t.template_id, t.currency, t.active) for t in templates] == [
        ("9", "USD", True),
        ("12", "CAD", True),
    ]


def test_open_invoice_maps_exactly() -> None:
    invoice = to_invoice(load("invoice_read.json")["Invoice"], home_currency="USD")
    assert invoice.qbo_id == "264"
    assert invoice.doc_number == "1041"
    assert invoice.customer_id == "1" and invoice.customer_name == "Amy's Bird Sanctuary"
    assert invoice.total == Decimal("100.00") and invoice.balance == Decimal("100.00")
    assert invoice.status is InvoiceStatus.OPEN
    assert str(invoice.due_date) == "2020-10-29"
    assert invoice.updated_at == parse_time("2020-09-29T11:46:06+00:00")
    assert invoice.updated_at.tzinfo is not None
    assert len(invoice.lines) == 1 and invoice.lines[0].description == "Services"


def test_voided_invoice_is_voided_not_paid() -> None:
    invoice = to_invoice(load("invoice_voided.json")["Invoice"], home_currency="USD")
    assert invoice.status is InvoiceStatus.VOIDED
    assert invoice.total == 0 and invoice.sync_token == "1"


def test_created_invoice_response_maps() -> None:
    invoice = to_invoice(load("invoice_create_response.json")["Invoice"], home_currency="USD")
    assert invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIAL, InvoiceStatus.PAID)


def test_every_invoice_of_the_query_dump_maps_with_consistent_status() -> None:
    rows = query_rows(load("invoice_query_response.json"), "Invoice")
    assert len(rows) == 31
    for row in rows:
        invoice = to_invoice(row, home_currency="USD")
        assert isinstance(invoice.total, Decimal) and isinstance(invoice.balance, Decimal)
        if invoice.balance == 0 and invoice.total > 0:
            assert invoice.status is InvoiceStatus.PAID
        elif invoice.balance == invoice.total and invoice.total > 0:
            assert invoice.status is InvoiceStatus.OPEN
        discount = sum(
            (line["Amount"] for line in row["Line"] if line["DetailType"] == "DiscountLineDetail"), Decimal(0)
        )
        if invoice.lines:  # the dump holds one invoice whose only line is a subtotal
            lines = sum((line.amount for line in invoice.lines), Decimal(0))
            assert lines - discount + invoice.tax == invoice.total


def test_customer_maps() -> None:
    customer = to_customer(load("customer_read.json")["Customer"], home_currency="USD")
    assert customer.qbo_id == "5"
    assert customer.display_name == "Dukes Basketball Camp"
    assert customer.email == "Dukes_bball@intuit.com"
    assert customer.phone == "(520) 420-5638"
    assert customer.mobile is None
    mobile = {**load("customer_read.json")["Customer"], "Mobile": {"FreeFormNumber": "(415) 555-0123"}}
    assert to_customer(mobile, home_currency="USD").mobile == "(415) 555-0123"
    assert customer.currency == "USD" and customer.active


def test_deleted_stub_is_recognised_in_cdc() -> None:
    deleted = load("invoice_delete_response.json")["Invoice"]
    open_invoice = load("invoice_read.json")["Invoice"]
    answer = {"CDCResponse": [{"QueryResponse": [{"Invoice": [open_invoice, deleted]}]}]}
    changes = changes_from_cdc(answer, "USD", as_of=None)
    assert changes.deleted_invoice_ids == ("266",)
    assert [i.qbo_id for i in changes.invoices] == ["264"]


def test_cdc_payments_carry_their_total_invoices_and_deletion() -> None:
    """A Payment as QBO returns it, and a deleted one in the stub shape QBO uses for any entity."""
    payment = load("payment_create_response.json")["Payment"]
    stub = {**load("invoice_delete_response.json")["Invoice"], "Id": "124"}
    answer = {"CDCResponse": [{"QueryResponse": [{"Payment": [payment, stub]}]}]}
    live, deleted = changes_from_cdc(answer, "USD", as_of=None).payments
    assert (live.qbo_id, live.deleted, live.voided, live.total, live.invoice_ids) == (
        "123",
        False,
        False,
        Decimal("100.00"),
        ("123",),
    )
    assert (deleted.qbo_id, deleted.deleted) == ("124", True)


def test_cdc_counts_malformed_rows_and_flags_an_answer_at_the_row_cap() -> None:
    invoice = load("invoice_read.json")["Invoice"]
    undated = {k: v for k, v in invoice.items() if k != "TxnDate"} | {"Id": "265"}
    answer = {"CDCResponse": [{"QueryResponse": [{"Invoice": [invoice, undated]}]}]}
    changes = changes_from_cdc(answer, "USD", as_of=None)
    assert (len(changes.invoices), changes.skipped, changes.truncated) == (1, 1, False)
    capped = {
        "CDCResponse": [{"QueryResponse": [{"Customer": [{"Id": str(i)} for i in range(CDC_MAX_ROWS)]}]}]
    }
    assert changes_from_cdc(capped, "USD", as_of=None).truncated


def test_cdc_sample_without_syncd_entities_is_empty() -> None:
    changes = changes_from_cdc(load("cdc_response.json"), "USD", as_of=None)
    assert changes.invoices == () and changes.deleted_invoice_ids == () and changes.payment_ids == ()


def test_xml_cdc_deleted_invoice_maps_to_a_deleted_id() -> None:
    deleted = deleted_ids_from_cdc_xml((CONTRACTS / "cdc_response_with_deleted.xml").read_bytes())
    assert deleted.get("Invoice")


@pytest.mark.parametrize(
    ("name", "entity", "qbo_id"),
    [
        ("payment_create_response.json", "Payment", "123"),
        ("purchase_create_response.json", "Purchase", "252"),
    ],
)
def test_write_answers_map_to_entry_refs(name: str, entity: str, qbo_id: str) -> None:
    ref = entry_ref(load(name), entity)
    assert (ref.entity, ref.qbo_id, ref.sync_token) == (entity, qbo_id, "0")


def test_purchase_entity_sample_has_what_entry_ref_needs() -> None:
    ref = entry_ref({"Purchase": load("purchase_entity_sandbox_2025.json")}, "Purchase")
    assert ref.qbo_id


def test_batch_response_items_map_per_bid() -> None:
    items = batch_items(load("batch_response.json"))
    assert set(items) == {"bid1", "bid2", "bid3", "bid4"}
    assert entry_ref(items["bid1"], "Vendor").qbo_id == "71"
    not_found = fault_from_json(items["bid2"])
    stale = fault_from_json(items["bid3"])
    assert not_found is not None and isinstance(error_for_fault(not_found), QboNotFoundError)
    assert stale is not None and isinstance(error_for_fault(stale), StaleObjectError)
    assert len(query_rows(items["bid4"], "SalesReceipt")) == 2
    request = load("batch_request.json")["BatchItemRequest"]
    assert [i["bId"] for i in request] == sorted(items)


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("fault_validation.json", 400, ValidationError),
        ("fault_query_400.json", 400, ValidationError),
        ("fault_unsupported_property_400.json", 400, ValidationError),
        ("fault_stale_object.json", 400, StaleObjectError),
        ("fault_auth_401.json", 401, AuthError),
        ("throttle_429.xml", 429, ThrottledError),
        ("throttle_403_legacy.xml", 403, ThrottledError),
    ],
)
def test_faults_map_onto_the_error_tree(name: str, status: int, error: type[Exception]) -> None:
    body = (CONTRACTS / name).read_bytes()
    mapped = error_for_response(status, body, retry_after=2.0)
    assert type(mapped) is error
    fault = parse_fault(body)
    assert fault is not None and fault.code
    if error is ThrottledError:
        assert isinstance(mapped, TransientError) and mapped.retry_after == 2.0
        assert fault.code == "3001"
    if error is ValidationError:
        assert fault.message in str(mapped)


def test_auth_fault_message_leaves_out_the_token_fragment() -> None:
    error = error_for_response(401, (CONTRACTS / "fault_auth_401.json").read_bytes())
    assert "AuthenticationFailed" in str(error) and "AB0160139" not in str(error)


def test_unknown_bodies_still_map() -> None:
    assert type(error_for_response(503, b"<html>down</html>")) is TransientError
    assert type(error_for_response(418, b"")) is PermanentError
    assert isinstance(error_for_response(404, b""), QboNotFoundError)


@pytest.mark.parametrize(
    "name", ["deposit.xml", "transfer.xml", "payment_linked_to_invoice.xml", "refund_receipt_read.xml"]
)
def test_xml_entities_carry_no_fault(name: str) -> None:
    # Entities syncd writes as JSON; the XML samples are only checked not to read as faults.
    assert parse_fault((CONTRACTS / name).read_bytes()) is None


def test_request_samples_match_the_payload_builders() -> None:
    sample = load("payment_create_request.json")
    draft = QboPaymentDraft(
        customer_id="123", total=Decimal("123.45"), currency="USD", txn_date=date(2019, 9, 1),
        deposit_account_id="35", lines=(QboPaymentLine("123", Decimal("1.0")),), reference="Ref123",
        memo="Memo", exchange_rate=Decimal("1.0"),
    )  # fmt: skip
    body = payment_body(draft)
    for key in (
        "TotalAmt",
        "CurrencyRef",
        "CustomerRef",
        "DepositToAccountRef",
        "PaymentRefNum",
        "PrivateNote",
        "ExchangeRate",
        "TxnDate",
        "Line",
    ):
        assert key in body and key in sample
    assert body["Line"][0]["LinkedTxn"] == sample["Line"][0]["LinkedTxn"]
    assert load("invoice_void_request.json").keys() <= {"Id", "SyncToken", "sparse"}
    assert set(load("invoice_create_request.json"))
