"""What posts to the clearing accounts: every transaction type that can move a bank-type account,
dated in a period, plus the entries syncd wrote (by Id, whatever their date), read as batched
queries — 30 queries per batch call, 1000 rows per page — so a period costs one or two requests.

QBO's query language cannot filter transactions by account, so each row is read whole and its
postings to the wanted accounts are worked out here from the lines QBO holds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.quickbooks.errors import error_for_fault, fault_from_json
from connectors.quickbooks.mapping import Json, is_voided, parse_amount, query_rows
from connectors.quickbooks.pull import batch_items
from connectors.quickbooks.sdk import SdkCalls
from syncd.domain import QboPosting
from syncd.ports.quickbooks import BATCH_ITEMS

# Transactions that can move money into or out of a Bank-type account such as Stripe Clearing.
CLEARING_TYPES = ("Payment", "SalesReceipt", "Deposit", "Purchase", "RefundReceipt", "Transfer")
PAGE_SIZE = 1000
_IDS_PER_QUERY = 200  # keeps one query's text well under QBO's statement length


@dataclass(frozen=True, slots=True)
class _Query:
    entity: str
    text: str
    start: int  # 0: a query by Id, never paged


def _ref(obj: Json, key: str) -> str | None:
    ref = obj.get(key)
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


def _lines(obj: Json) -> Iterator[Json]:
    for line in obj.get("Line") or []:
        if isinstance(line, dict):
            yield line


def _moves(entity: str, obj: Json) -> list[tuple[str | None, Decimal]]:
    """(account, signed amount) for every account ``obj`` moves, the main one first."""
    total = parse_amount(obj.get("TotalAmt"))
    if entity == "Transfer":
        amount = parse_amount(obj.get("Amount"))
        return [(_ref(obj, "FromAccountRef"), -amount), (_ref(obj, "ToAccountRef"), amount)]
    if entity in ("Payment", "SalesReceipt"):
        return [(_ref(obj, "DepositToAccountRef"), total)]
    if entity == "RefundReceipt":
        return [(_ref(obj, "DepositToAccountRef"), -total)]
    if entity == "Purchase":
        out = [(_ref(obj, "AccountRef"), -total)]
        for line in _lines(obj):
            detail = line.get("AccountBasedExpenseLineDetail")
            if isinstance(detail, dict):
                out.append((_ref(detail, "AccountRef"), parse_amount(line.get("Amount"))))
        return out
    if entity == "Deposit":
        out = [(_ref(obj, "DepositToAccountRef"), total)]
        for line in _lines(obj):
            detail = line.get("DepositLineDetail")
            if isinstance(detail, dict):
                out.append((_ref(detail, "AccountRef"), -parse_amount(line.get("Amount"))))
        return out
    return []


def _invoices(obj: Json) -> tuple[str, ...]:
    found: list[str] = []
    for line in _lines(obj):
        for linked in line.get("LinkedTxn") or []:
            if isinstance(linked, dict) and linked.get("TxnType") == "Invoice" and linked.get("TxnId"):
                found.append(str(linked["TxnId"]))
    return tuple(found)


def postings(entity: str, obj: Json, accounts: Collection[str], *, known: bool) -> list[QboPosting]:
    """The postings of one QBO transaction to ``accounts``, summed per account; an entry syncd
    wrote (``known``) that moves none of them comes back once, with its main account."""
    per_account: dict[str | None, Decimal] = {}
    moves = _moves(entity, obj)
    for account, amount in moves:
        if account in accounts:
            per_account[account] = per_account.get(account, Decimal(0)) + amount
    if not per_account and known and moves:
        per_account[moves[0][0]] = moves[0][1]
    rate = obj.get("ExchangeRate")
    return [
        QboPosting(
            entity=entity,
            qbo_id=str(obj.get("Id")),
            account_id=account,
            amount=amount,
            txn_date=date.fromisoformat(str(obj["TxnDate"])[:10]) if obj.get("TxnDate") else None,
            currency=_ref(obj, "CurrencyRef"),
            exchange_rate=parse_amount(rate) if rate not in (None, "") else None,
            voided=is_voided(obj) or (entity == "Transfer" and amount == 0),
            memo=str(obj.get("PrivateNote") or ""),
            invoice_ids=_invoices(obj) if entity == "Payment" else (),
        )
        for account, amount in per_account.items()
    ]


def _dated(entity: str, start: date, end: date, position: int) -> _Query:
    text = (
        f"SELECT * FROM {entity} WHERE TxnDate >= '{start.isoformat()}' AND TxnDate <= "  # noqa: S608
        f"'{end.isoformat()}' ORDERBY Id STARTPOSITION {position} MAXRESULTS {PAGE_SIZE}"
    )
    return _Query(entity, text, position)


def _by_id(entity: str, ids: list[str]) -> _Query:
    # Ids come from syncd's own ledger (QBO Ids are digits); quoting keeps the statement well formed.
    listed = ", ".join("'" + i.replace("'", "") + "'" for i in ids)
    return _Query(entity, f"SELECT * FROM {entity} WHERE Id IN ({listed})", 0)  # noqa: S608


def read_clearing(
    calls: SdkCalls,
    accounts: Collection[str],
    start: date,
    end: date,
    known: Mapping[str, Collection[str]],
) -> list[QboPosting]:
    """Every posting to ``accounts`` by a transaction dated in [start, end], and those of the
    ``known`` entries (entity -> Ids) whatever their date; each transaction once."""
    pending = [_dated(entity, start, end, 1) for entity in CLEARING_TYPES]
    for entity, ids in sorted(known.items()):
        wanted = sorted(set(ids))
        for i in range(0, len(wanted), _IDS_PER_QUERY):
            pending.append(_by_id(entity, wanted[i : i + _IDS_PER_QUERY]))
    wanted_ids = {(entity, str(i)) for entity, ids in known.items() for i in ids}
    rows: dict[tuple[str, str], Json] = {}
    while pending:
        batch, pending = pending[:BATCH_ITEMS], pending[BATCH_ITEMS:]
        answer = batch_items(
            calls.batch([{"bId": str(n), "Query": q.text} for n, q in enumerate(batch)], None)
        )
        for n, query in enumerate(batch):
            item = answer.get(str(n)) or {}
            fault = fault_from_json(item)
            if fault is not None:
                raise error_for_fault(fault)
            found = query_rows(item, query.entity)
            for row in found:
                rows[(query.entity, str(row.get("Id")))] = row
            if query.start and len(found) == PAGE_SIZE:
                pending.append(_dated(query.entity, start, end, query.start + PAGE_SIZE))
    out: list[QboPosting] = []
    for (entity, qbo_id), row in sorted(rows.items()):
        out += postings(entity, row, accounts, known=(entity, qbo_id) in wanted_ids)
    return out
