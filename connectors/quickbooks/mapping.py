"""QBO JSON entities read from the API mapped to syncd's domain types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from syncd.domain import CompanyInfo, Customer, Invoice, InvoiceLine, QboEntry, as_decimal
from syncd.errors import PermanentError

Json = dict[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: object) -> datetime:
    """QBO timestamps carry an offset (``2020-09-29T04:46:06-07:00``); syncd keeps aware UTC."""
    if not isinstance(value, str) or not value:
        raise PermanentError(f"QBO timestamp missing or malformed: {value!r}")
    text = value.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PermanentError(f"QBO timestamp malformed: {value!r}") from None
    if parsed.tzinfo is None:
        # QBO omits the offset only on UTC-normalised values (webhook lastUpdated).
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """An aware datetime as QBO expects it in ``changedSince`` and queries."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: object) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise PermanentError(f"QBO date malformed: {value!r}") from None


def parse_amount(value: object, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    try:
        return as_decimal(value)
    except (TypeError, ArithmeticError):
        raise PermanentError(f"QBO amount malformed: {value!r}") from None


def _ref(obj: Json, key: str) -> tuple[str | None, str | None]:
    ref = obj.get(key)
    if isinstance(ref, dict):
        value = ref.get("value")
        return (str(value) if value is not None else None, ref.get("name"))
    return (None, None)


def _nested(obj: Json, *path: str) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _updated_at(obj: Json) -> datetime:
    stamp = _nested(obj, "MetaData", "LastUpdatedTime") or _nested(obj, "MetaData", "CreateTime")
    return parse_time(stamp) if stamp else _EPOCH


def is_deleted(obj: Json) -> bool:
    return str(obj.get("status", "")).lower() == "deleted"


def is_voided(obj: Json) -> bool:
    """QBO has no void flag: a void zeroes TotalAmt and Balance and sets PrivateNote "Voided"."""
    note = str(obj.get("PrivateNote") or "")
    return (
        note.startswith("Voided")
        and parse_amount(obj.get("TotalAmt")) == 0
        and parse_amount(obj.get("Balance")) == 0
    )


def invoice_lines(obj: Json) -> tuple[InvoiceLine, ...]:
    lines: list[InvoiceLine] = []
    for line in obj.get("Line") or []:
        if not isinstance(line, dict) or line.get("DetailType") != "SalesItemLineDetail":
            continue
        detail = line.get("SalesItemLineDetail") or {}
        amount = parse_amount(line.get("Amount"))
        quantity = parse_amount(detail.get("Qty"), "1")
        unit_price = parse_amount(detail.get("UnitPrice")) if detail.get("UnitPrice") is not None else amount
        description = line.get("Description") or _ref(detail, "ItemRef")[1] or ""
        lines.append(InvoiceLine(str(description), quantity, unit_price, amount))
    return tuple(lines)


def to_invoice(obj: Json, *, home_currency: str) -> Invoice:
    """A full QBO Invoice entity (not a deleted stub) as a domain Invoice."""
    try:
        qbo_id = str(obj["Id"])
    except KeyError:
        raise PermanentError("QBO invoice without Id") from None
    customer_id, customer_name = _ref(obj, "CustomerRef")
    currency = _ref(obj, "CurrencyRef")[0] or home_currency
    total = parse_amount(obj.get("TotalAmt"))
    balance = parse_amount(obj.get("Balance"))
    voided = is_voided(obj)
    deleted = is_deleted(obj)
    txn_date = _date(obj.get("TxnDate"))
    if txn_date is None and not deleted:
        raise PermanentError(f"QBO invoice {qbo_id} has no TxnDate")
    memo = _nested(obj, "CustomerMemo", "value")
    return Invoice(
        qbo_id=qbo_id,
        doc_number=str(obj.get("DocNumber") or ""),
        customer_id=customer_id or "",
        customer_name=customer_name or "",
        currency=currency.upper(),
        txn_date=txn_date or _EPOCH.date(),
        due_date=_date(obj.get("DueDate")),
        total=total,
        balance=balance,
        tax=parse_amount(_nested(obj, "TxnTaxDetail", "TotalTax")),
        lines=invoice_lines(obj),
        status=Invoice.status_for(total, balance, voided=voided, deleted=deleted),
        sync_token=str(obj.get("SyncToken") or "0"),
        updated_at=_updated_at(obj),
        email=_nested(obj, "BillEmail", "Address"),
        memo=str(memo) if memo is not None else None,
    )


def to_customer(obj: Json, *, home_currency: str) -> Customer:
    try:
        qbo_id = str(obj["Id"])
    except KeyError:
        raise PermanentError("QBO customer without Id") from None
    currency = _ref(obj, "CurrencyRef")[0] or home_currency
    return Customer(
        qbo_id=qbo_id,
        display_name=str(obj.get("DisplayName") or obj.get("FullyQualifiedName") or ""),
        email=_nested(obj, "PrimaryEmailAddr", "Address"),
        phone=_nested(obj, "PrimaryPhone", "FreeFormNumber"),
        currency=currency.upper(),
        active=bool(obj.get("Active", True)),
        updated_at=_updated_at(obj),
        deleted=is_deleted(obj),
        mobile=_nested(obj, "Mobile", "FreeFormNumber"),
    )


def _name_values(obj: Json | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (obj or {}).get("NameValue") or []:
        if isinstance(item, dict) and "Name" in item:
            out[str(item["Name"])] = str(item.get("Value", ""))
    return out


def to_company_info(realm_id: str, company: Json, preferences: Json | None) -> CompanyInfo:
    """CompanyInfo + Preferences: the home currency lives in Preferences.CurrencyPrefs."""
    prefs = preferences or {}
    home = _nested(prefs, "CurrencyPrefs", "HomeCurrency", "value")
    if not home:
        home = {"US": "USD", "CA": "CAD", "GB": "GBP", "AU": "AUD"}.get(
            str(company.get("Country", "US")), "USD"
        )
    extras = {**_name_values(company), **_name_values(prefs.get("OtherPrefs"))}
    timezone = (
        company.get("TimeZone")
        or extras.get("TimeZone")
        or extras.get("CompanyTimeZone")
        or _nested(prefs, "OtherPrefs", "TimeZone")
    )
    return CompanyInfo(
        realm_id=realm_id,
        name=str(company.get("CompanyName") or company.get("LegalName") or ""),
        home_currency=str(home).upper(),
        timezone=str(timezone) if timezone else None,
        email=_nested(company, "Email", "Address"),
        phone=_nested(company, "PrimaryPhone", "FreeFormNumber"),
    )


def query_rows(response: Json, entity: str) -> list[Json]:
    """The entity rows of a ``QueryResponse`` (absent when the page is empty)."""
    rows = _nested(response, "QueryResponse", entity) or []
    return [row for row in rows if isinstance(row, dict)]


def query_count(response: Json) -> int:
    count = _nested(response, "QueryResponse", "totalCount")
    return int(count) if count is not None else 0


def response_time(response: Json) -> datetime | None:
    stamp = response.get("time")
    return parse_time(stamp) if isinstance(stamp, str) and stamp else None


_ENTRY_ACCOUNT = {
    "Payment": "DepositToAccountRef",
    "RefundReceipt": "DepositToAccountRef",
    "Deposit": "DepositToAccountRef",
    "Purchase": "AccountRef",
    "Transfer": "FromAccountRef",
}


def to_entry(entity: str, obj: Json) -> QboEntry:
    """An entry's total, date and the account it moves (Transfer: the account it leaves)."""
    total = obj.get("Amount") if entity == "Transfer" else obj.get("TotalAmt")
    account_id, _ = _ref(obj, _ENTRY_ACCOUNT.get(entity, "AccountRef"))
    return QboEntry(
        entity=entity,
        qbo_id=str(obj.get("Id")),
        amount=parse_amount(total),
        txn_date=_date(obj.get("TxnDate")),
        account_id=account_id,
        voided=is_voided(obj),
        currency=_ref(obj, "CurrencyRef")[0],
        exchange_rate=parse_amount(obj["ExchangeRate"])
        if obj.get("ExchangeRate") not in (None, "")
        else None,
    )
