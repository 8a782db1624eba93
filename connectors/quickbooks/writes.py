"""syncd's ledger drafts turned into QBO entity payloads, and QBO write answers into entry refs."""

from __future__ import annotations

import hashlib
from typing import Any

from connectors.quickbooks.mapping import parse_amount
from syncd.domain import (
    QboDepositDraft,
    QboEntryRef,
    QboPaymentBooked,
    QboPaymentDraft,
    QboPaymentLine,
    QboPurchaseDraft,
    QboRefundDraft,
    QboTransferDraft,
)
from syncd.errors import PermanentError

Json = dict[str, Any]
Draft = QboPaymentDraft | QboPurchaseDraft | QboTransferDraft | QboRefundDraft
MAX_REQUEST_ID = 50  # QBO rejects longer requestid values
_REF_NUM_MAX = 21  # PaymentRefNum / DocNumber length limit
_NOTE_MAX = 4000


def qbo_request_id(key: str) -> str:
    """``key`` itself when QBO accepts it, else a deterministic digest of it (same key, same id)."""
    if not key:
        raise ValueError("empty request id")
    if len(key) <= MAX_REQUEST_ID and key.isascii():
        return key
    return "h" + hashlib.sha256(key.encode()).hexdigest()[: MAX_REQUEST_ID - 1]


def _ref(value: str) -> Json:
    return {"value": value}


def _currency(code: str, rate: Any) -> Json:
    out: Json = {"CurrencyRef": _ref(code.upper())}
    if rate is not None:
        out["ExchangeRate"] = rate
    return out


def payment_body(draft: QboPaymentDraft) -> Json:
    body: Json = {
        "CustomerRef": _ref(draft.customer_id),
        "TotalAmt": draft.total,
        **_currency(draft.currency, draft.exchange_rate),
        **({"DepositToAccountRef": _ref(draft.deposit_account_id)} if draft.deposit_account_id else {}),
        "TxnDate": draft.txn_date.isoformat(),
        "PaymentRefNum": draft.reference[:_REF_NUM_MAX],
        "PrivateNote": draft.memo[:_NOTE_MAX],
        "Line": [
            {"Amount": line.amount, "LinkedTxn": [{"TxnId": line.invoice_id, "TxnType": "Invoice"}]}
            for line in draft.lines
        ],
    }
    if draft.payment_method_id:
        body["PaymentMethodRef"] = _ref(draft.payment_method_id)
    return body


def _one_line(
    draft: QboPurchaseDraft | QboRefundDraft, ref_field: str, detail_type: str, detail: Json
) -> Json:
    """What a one-line money entry carries besides its parties: currency, date, reference (in
    ``ref_field``), note, total, and its one line of ``detail_type``."""
    return {
        **_currency(draft.currency, draft.exchange_rate),
        "TxnDate": draft.txn_date.isoformat(),
        ref_field: draft.reference[:_REF_NUM_MAX],
        "PrivateNote": draft.memo[:_NOTE_MAX],
        "TotalAmt": draft.amount,
        "Line": [
            {
                "Amount": draft.amount,
                "Description": draft.memo[:_NOTE_MAX],
                "DetailType": detail_type,
                detail_type: detail,
            }
        ],
    }


def purchase_body(draft: QboPurchaseDraft) -> Json:
    return {
        "PaymentType": "Cash",
        "AccountRef": _ref(draft.from_account_id),
        "EntityRef": {"value": draft.vendor_id, "type": "Vendor"},
        **_one_line(
            draft,
            "DocNumber",
            "AccountBasedExpenseLineDetail",
            {"AccountRef": _ref(draft.expense_account_id)},
        ),
    }


def transfer_body(draft: QboTransferDraft) -> Json:
    # Transfer has no reference-number field: the reference goes into the note for the bookkeeper.
    note = f"{draft.memo} ({draft.reference})" if draft.reference else draft.memo
    return {
        "FromAccountRef": _ref(draft.from_account_id),
        "ToAccountRef": _ref(draft.to_account_id),
        "Amount": draft.amount,
        "CurrencyRef": _ref(draft.currency.upper()),
        "TxnDate": draft.txn_date.isoformat(),
        "PrivateNote": note[:_NOTE_MAX],
    }


def refund_body(draft: QboRefundDraft, *, item_id: str) -> Json:
    """A RefundReceipt out of clearing; its one sales line needs an Item (whose income account is
    ``draft.income_account_id``), since QBO refund receipts take no account-based lines."""
    return {
        "CustomerRef": _ref(draft.customer_id),
        "DepositToAccountRef": _ref(draft.from_account_id),
        **_one_line(
            draft,
            "PaymentRefNum",
            "SalesItemLineDetail",
            {"ItemRef": _ref(item_id), "Qty": 1, "UnitPrice": draft.amount},
        ),
    }


def deposit_body(draft: QboDepositDraft) -> Json:
    """A Deposit into ``to_account_id`` whose line comes from ``from_account_id``, and a second
    line from the rounding account when the draft carries rounding."""
    lines: list[Json] = [
        {
            "Amount": draft.amount - draft.rounding,
            "Description": draft.memo[:_NOTE_MAX],
            "DetailType": "DepositLineDetail",
            "DepositLineDetail": {"AccountRef": _ref(draft.from_account_id)},
        }
    ]
    if draft.rounding and draft.rounding_account_id:
        lines.append(
            {
                "Amount": draft.rounding,
                "Description": f"Sub-cent rounding ({draft.reference})"[:_NOTE_MAX],
                "DetailType": "DepositLineDetail",
                "DepositLineDetail": {"AccountRef": _ref(draft.rounding_account_id)},
            }
        )
    return {
        "DepositToAccountRef": _ref(draft.to_account_id),
        **_currency(draft.currency, draft.exchange_rate),
        "TxnDate": draft.txn_date.isoformat(),
        "PrivateNote": f"{draft.memo} ({draft.reference})"[:_NOTE_MAX],
        "TotalAmt": draft.amount,
        "Line": lines,
    }


def entity_name(draft: Draft) -> str:
    if isinstance(draft, QboPaymentDraft):
        return "Payment"
    if isinstance(draft, QboPurchaseDraft):
        return "Purchase"
    if isinstance(draft, QboTransferDraft):
        return "Transfer"
    return "RefundReceipt"


def entry_ref(response: Json, entity: str) -> QboEntryRef:
    """The Id and SyncToken of the entity a write (or a batch item) returned."""
    obj = response.get(entity)
    if not isinstance(obj, dict) or "Id" not in obj:
        raise PermanentError(f"QBO answered a {entity} write without the {entity}")
    return QboEntryRef(entity=entity, qbo_id=str(obj["Id"]), sync_token=str(obj.get("SyncToken", "0")))


def payment_booked(response: Json) -> QboPaymentBooked:
    """A Payment write's answer: its ref, the amount applied per invoice, and the unapplied rest."""
    entry = entry_ref(response, "Payment")
    payment: Json = response["Payment"]
    lines = []
    for line in payment.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            if linked.get("TxnType") == "Invoice":
                lines.append(QboPaymentLine(str(linked.get("TxnId")), parse_amount(line.get("Amount"))))
    return QboPaymentBooked(entry, tuple(lines), parse_amount(payment.get("UnappliedAmt")))
