"""The QBO payment write path: invoices re-read in one query, a Payment's answer read back (what it
applied, what it left as credit), and refusals because of an invoice told apart from the rest —
over HTTP to the simulator, and on QBO's own fault bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.client import QboConnector
from connectors.quickbooks.errors import error_for_response, payment_link_error
from syncd.domain import InvoiceStatus, QboPaymentDraft, QboPaymentLine
from syncd.errors import OpenBalanceError, ValidationError
from syncd.ports.quickbooks import AccountNames

Make = Callable[..., QboConnector]


def _fault(code: str, detail: str) -> bytes:
    error = {"Message": "A business validation error has occurred", "Detail": detail, "code": code}
    return json.dumps({"Fault": {"Error": [error], "type": "ValidationFault"}}).encode()


def test_refusals_because_of_an_invoice_are_told_apart_from_other_refusals() -> None:
    over = error_for_response(
        400, _fault("6140", "The payment amount 300.00 exceeds the open balance 100.00")
    )
    assert isinstance(over, OpenBalanceError)
    gone = payment_link_error(error_for_response(400, _fault("2500", "Invalid Reference Id : Invoice 42")))
    assert isinstance(gone, OpenBalanceError)
    customer = payment_link_error(
        error_for_response(400, _fault("2500", "Invalid Reference Id : Customer 7"))
    )
    assert type(customer) is ValidationError
    closed = payment_link_error(error_for_response(400, _fault("6200", "The books are closed for Invoice")))
    assert type(closed) is ValidationError


def _draft(invoice: dict[str, Any], clearing: str, total: Decimal, applied: Decimal) -> QboPaymentDraft:
    return QboPaymentDraft(
        customer_id=invoice["CustomerRef"]["value"],
        total=total,
        currency="USD",
        txn_date=datetime.now(UTC).date(),
        deposit_account_id=clearing,
        lines=(QboPaymentLine(invoice["Id"], applied),) if applied else (),
        reference=f"pi_{invoice['Id']}",
        memo=f"Stripe payment for invoice {invoice['Id']}",
    )


def test_a_payment_is_booked_against_what_qbo_has_open_now(
    sim: Any, token_store: Any, make_sim_connector: Make
) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    clearing = qbo.ensure_accounts("USD", AccountNames()).clearing.qbo_id
    customer = sim.entities("Customer")[0]["Id"]
    kept, paid, gone = (sim.add_invoice(customer, Decimal("90.00")) for _ in range(3))
    sim.record_offline_payment(paid, Decimal("40.00"))
    sim.delete_invoice(gone)

    current = {inv.qbo_id: inv for inv in qbo.get_invoices([kept, paid, gone, "not-an-id"])}
    assert set(current) == {kept, paid}  # a deleted invoice is absent, in one read
    assert current[paid].balance == Decimal("50.00") and current[paid].status is InvoiceStatus.PARTIAL

    invoice = sim.entity("Invoice", paid)
    with pytest.raises(OpenBalanceError):  # what the stale mirror would have asked
        qbo.book_payment(_draft(invoice, clearing, Decimal("90.00"), Decimal("90.00")), request_id="k1")
    booked = qbo.book_payment(
        _draft(invoice, clearing, Decimal("90.00"), Decimal("50.00")), request_id="k1#1"
    )
    assert booked.lines == (QboPaymentLine(paid, Decimal("50.00")),)
    assert booked.unapplied == Decimal("40.00")
    # The same requestid answers the Payment first created, whatever the body says now.
    again = qbo.book_payment(_draft(invoice, clearing, Decimal("90.00"), Decimal(0)), request_id="k1#1")
    assert again == booked
    with pytest.raises(OpenBalanceError):
        qbo.book_payment(
            _draft(sim.entity("Invoice", kept) | {"Id": gone}, clearing, Decimal("9.00"), Decimal("9.00")),
            request_id="k2",
        )
