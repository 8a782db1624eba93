"""Reducing a Payment syncd wrote (a refund that reopens its invoices), and restoring it when the
refund fails, each as one sparse update carrying its own marker."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.quickbooks.mapping import is_voided
from syncd.domain import QboPaymentReduction, QboPaymentRestore
from syncd.domain.rates import credited_rate
from syncd.errors import NotReducibleError

Json = dict[str, Any]
NOTE_MAX = 4000
CENT = Decimal("0.01")


def marker_line(reduction: QboPaymentReduction) -> str:
    return f"[{reduction.marker}] -{reduction.amount}"


def _money(value: object) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def reduced_fields(payment: Json, reduction: QboPaymentReduction) -> Json | None:
    """The sparse-update fields that take ``reduction`` off ``payment``, or None when the Payment
    already carries the marker (reduced before: a replay, or a second process won the race)."""
    note = str(payment.get("PrivateNote") or "")
    if f"[{reduction.marker}]" in note:
        return None
    if is_voided(payment):
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} is voided")
    total = _money(payment.get("TotalAmt"))
    amount = reduction.amount
    if amount <= 0 or amount > total:
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} holds {total}, cannot take {amount} off it")
    new_note = f"{note}\n{marker_line(reduction)}" if note else marker_line(reduction)
    if len(new_note) > NOTE_MAX:
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} has no room left in its note")
    remaining = total - amount
    fields: Json = {"TotalAmt": remaining, "PrivateNote": new_note, "Line": _reduced_lines(payment, amount)}
    if reduction.home_amount is not None:
        rate = _money(payment.get("ExchangeRate") or "1")
        home = (total * rate).quantize(CENT)
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


def _reduced_lines(payment: Json, amount: Decimal) -> list[Json]:
    """Unapplied credit absorbs the reduction first, then invoice links from the last one; a line
    brought to zero is dropped (QBO keeps no zero links)."""
    lines = [dict(line) for line in payment.get("Line") or []]
    unapplied = _money(payment.get("TotalAmt")) - sum(
        (_money(line.get("Amount")) for line in lines), Decimal(0)
    )
    left = amount - min(max(unapplied, Decimal(0)), amount)
    for line in reversed(lines):
        if left == 0:
            break
        take = min(_money(line.get("Amount")), left)
        line["Amount"] = _money(line.get("Amount")) - take
        left -= take
    out = []
    for line in lines:
        if _money(line.get("Amount")) == 0:
            continue
        line.pop("LineEx", None)
        out.append({key: line[key] for key in ("Amount", "LinkedTxn") if key in line})
    return out


def restored_fields(payment: Json, restore: QboPaymentRestore) -> Json | None:
    """The sparse-update fields that put ``restore`` back on ``payment`` (None: already done)."""
    note = str(payment.get("PrivateNote") or "")
    if f"[{restore.marker}]" in note:
        return None
    if is_voided(payment):
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} is voided")
    line = f"[{restore.marker}] +{restore.amount}"
    new_note = f"{note}\n{line}" if note else line
    if len(new_note) > NOTE_MAX:
        raise NotReducibleError(f"QBO Payment {payment.get('Id')} has no room left in its note")
    lines = [
        {key: dict(line)[key] for key in ("Amount", "LinkedTxn") if key in line}
        for line in payment.get("Line") or []
    ]
    for back in restore.lines:
        for existing in lines:
            if any(str(t.get("TxnId")) == back.invoice_id for t in existing.get("LinkedTxn") or []):
                existing["Amount"] = _money(existing.get("Amount")) + back.amount
                break
        else:
            lines.append(
                {"Amount": back.amount, "LinkedTxn": [{"TxnId": back.invoice_id, "TxnType": "Invoice"}]}
            )
    total = _money(payment.get("TotalAmt"))
    fields: Json = {"TotalAmt": total + restore.amount, "PrivateNote": new_note, "Line": lines}
    if restore.home_amount is not None:
        home = (total * _money(payment.get("ExchangeRate") or "1")).quantize(CENT)
        fields["ExchangeRate"] = credited_rate(total + restore.amount, home + restore.home_amount)
    return fields
