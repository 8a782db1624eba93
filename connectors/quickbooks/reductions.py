"""Reducing a Payment syncd wrote (a refund that reopens its invoices), and restoring it when the
refund fails, each as one sparse update carrying its own marker."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.quickbooks.mapping import is_voided, parse_amount
from syncd.domain import QboPaymentReduction, QboPaymentRestore
from syncd.domain.rates import credited_rate
from syncd.errors import NotReducibleError

Json = dict[str, Any]
NOTE_MAX = 4000
CENT = Decimal("0.01")


def reduced_fields(payment: Json, reduction: QboPaymentReduction) -> Json | None:
    """The sparse-update fields that take ``reduction`` off ``payment``, or None when the Payment
    already carries the marker (reduced before: a replay, or a second process won the race)."""
    note = _marked_note(payment, reduction.marker, f"-{reduction.amount}")
    if note is None:
        return None
    total = parse_amount(payment.get("TotalAmt"))
    amount = reduction.amount
    if amount <= 0 or amount > total:
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} holds {total}, cannot take {amount} off it")
    remaining = total - amount
    fields: Json = {"TotalAmt": remaining, "PrivateNote": note, "Line": _reduced_lines(payment, amount)}
    if reduction.home_amount is not None:
        home = _home(payment, total)
        if remaining == 0:
            if home != reduction.home_amount:
                # Nothing left to carry the exchange difference: the caller books it otherwise.
                raise NotReducibleError(
                    f"QBO Payment {payment.get('Id')} would drop to nothing while Stripe kept "
                    f"{home - reduction.home_amount} of it after conversion"
                )
        else:
            fields["ExchangeRate"] = credited_rate(remaining, home - reduction.home_amount)
    return fields


def restored_fields(payment: Json, restore: QboPaymentRestore) -> Json | None:
    """The sparse-update fields that put ``restore`` back on ``payment`` (None: already done)."""
    note = _marked_note(payment, restore.marker, f"+{restore.amount}")
    if note is None:
        return None
    lines = _links(payment)
    for back in restore.lines:
        for existing in lines:
            if any(str(t.get("TxnId")) == back.invoice_id for t in existing.get("LinkedTxn") or []):
                existing["Amount"] = parse_amount(existing.get("Amount")) + back.amount
                break
        else:
            lines.append(
                {"Amount": back.amount, "LinkedTxn": [{"TxnId": back.invoice_id, "TxnType": "Invoice"}]}
            )
    total = parse_amount(payment.get("TotalAmt"))
    fields: Json = {"TotalAmt": total + restore.amount, "PrivateNote": note, "Line": lines}
    if restore.home_amount is not None:
        fields["ExchangeRate"] = credited_rate(
            total + restore.amount, _home(payment, total) + restore.home_amount
        )
    return fields


def _marked_note(payment: Json, marker: str, change: str) -> str | None:
    """The Payment's note with ``[marker] change`` added, or None when the marker is already in
    (the change was made before); refused for a voided Payment or a note with no room left."""
    note = str(payment.get("PrivateNote") or "")
    if f"[{marker}]" in note:
        return None
    if is_voided(payment):
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} is voided")
    line = f"[{marker}] {change}"
    new_note = f"{note}\n{line}" if note else line
    if len(new_note) > NOTE_MAX:
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} has no room left in its note")
    return new_note


def _home(payment: Json, total: Decimal) -> Decimal:
    """What the Payment moves in the home currency, as QBO computes it (TotalAmt x rate, to the cent)."""
    return (total * parse_amount(payment.get("ExchangeRate"), "1")).quantize(CENT)


def _links(payment: Json) -> list[Json]:
    """The Payment's lines as an update sends them back: amount and linked transaction only."""
    return [
        {key: line[key] for key in ("Amount", "LinkedTxn") if key in line}
        for line in payment.get("Line") or []
    ]


def _reduced_lines(payment: Json, amount: Decimal) -> list[Json]:
    """Unapplied credit absorbs the reduction first, then invoice links from the last one; a line
    brought to zero is dropped (QBO keeps no zero links)."""
    lines = _links(payment)
    applied = sum((parse_amount(line.get("Amount")) for line in lines), Decimal(0))
    unapplied = parse_amount(payment.get("TotalAmt")) - applied
    left = amount - min(max(unapplied, Decimal(0)), amount)
    for line in reversed(lines):
        if left == 0:
            break
        take = min(parse_amount(line.get("Amount")), left)
        line["Amount"] = parse_amount(line.get("Amount")) - take
        left -= take
    return [line for line in lines if parse_amount(line.get("Amount")) != 0]
