"""A small debt written off in QBO as bookkeepers do it: a CreditMemo with the company's write-off
(or bad-debt) item, applied to the invoices by a zero-total Payment linking the memo and each
invoice. Two writes, each under its own requestid derived from the one key, so a crash between
them and a replay create neither twice."""

from __future__ import annotations

from decimal import Decimal

from connectors.quickbooks import writes
from connectors.quickbooks.errors import payment_link_error
from connectors.quickbooks.mapping import Json, parse_amount
from connectors.quickbooks.sdk import SdkCalls
from syncd.domain.collections import QboWriteOffBooked, QboWriteOffDraft
from syncd.errors import SyncdError

_REF_NUM_MAX = 21  # DocNumber / PaymentRefNum
_NOTE_MAX = 4000


def _ref(value: str) -> Json:
    return {"value": value}


def credit_memo_body(draft: QboWriteOffDraft) -> Json:
    return {
        "CustomerRef": _ref(draft.customer_id),
        "CurrencyRef": _ref(draft.currency.upper()),
        "TxnDate": draft.txn_date.isoformat(),
        "DocNumber": draft.reference[:_REF_NUM_MAX],
        "PrivateNote": draft.memo[:_NOTE_MAX],
        "Line": [
            {
                "Amount": draft.amount,
                "Description": draft.memo[:_NOTE_MAX],
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": _ref(draft.item_id), "Qty": 1, "UnitPrice": draft.amount},
            }
        ],
    }


def applying_payment_body(draft: QboWriteOffDraft, credit_memo_id: str) -> Json:
    """The zero-total Payment: each invoice's line and the memo's line cancel out."""
    lines: list[Json] = [
        {"Amount": line.amount, "LinkedTxn": [{"TxnId": line.invoice_id, "TxnType": "Invoice"}]}
        for line in draft.invoices
    ]
    applied = sum((line.amount for line in draft.invoices), Decimal(0))
    lines.append({"Amount": applied, "LinkedTxn": [{"TxnId": credit_memo_id, "TxnType": "CreditMemo"}]})
    return {
        "CustomerRef": _ref(draft.customer_id),
        "CurrencyRef": _ref(draft.currency.upper()),
        "TotalAmt": Decimal(0),
        "TxnDate": draft.txn_date.isoformat(),
        "PaymentRefNum": draft.reference[:_REF_NUM_MAX],
        "PrivateNote": draft.memo[:_NOTE_MAX],
        "Line": lines,
    }


def write_off(calls: SdkCalls, draft: QboWriteOffDraft, *, request_id: str) -> QboWriteOffBooked:
    """See ``QuickBooks.write_off``."""
    memo_answer = calls.create(
        "CreditMemo", credit_memo_body(draft), writes.qbo_request_id(f"{request_id}:memo")
    )
    memo = writes.entry_ref(memo_answer, "CreditMemo")
    remaining = parse_amount(memo_answer["CreditMemo"].get("RemainingCredit"), str(draft.amount))
    if remaining <= 0:
        return QboWriteOffBooked(memo.qbo_id, None)  # QBO applied the credit to the invoices itself
    try:
        answer = calls.create(
            "Payment", applying_payment_body(draft, memo.qbo_id), writes.qbo_request_id(f"{request_id}:apply")
        )
    except SyncdError as exc:
        raise payment_link_error(exc) from exc
    return QboWriteOffBooked(memo.qbo_id, writes.entry_ref(answer, "Payment").qbo_id)
