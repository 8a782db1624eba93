"""The payload of the write-off effect: an approved small debt written into QBO once."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.catalog.jsonable import Json, key_part
from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.payloads import Payload


@dataclass(frozen=True, slots=True)
class WrittenOffLine(Json):
    """One invoice the write-off closes, and the balance (as text: exact) written off on it."""

    invoice_id: str
    amount: str


@dataclass(frozen=True, slots=True)
class WriteOffBooking(Payload):
    """An approved ``write_offs`` row, written as a QBO CreditMemo applied to its invoices. What
    it writes (invoices, amounts, item) is fixed on the row's effect when staff approve, so a
    replay writes the same entry under the same key."""

    KIND = K.QBO_WRITE_OFF
    CUSTOMER = "customer_id"
    KEY = "qbo:write_off:{realm}:{write_off_id}"
    write_off_id: int
    entry: str  # a WriteOffEntry value
    item_id: str
    currency: str
    invoices: tuple[WrittenOffLine, ...]  # oldest first
    customer_id: str = key_part()
