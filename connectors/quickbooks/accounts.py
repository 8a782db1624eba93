"""Finding, or creating once, the accounts, vendor, payment method and item syncd's entries use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.quickbooks.errors import error_for_fault, fault_from_json
from connectors.quickbooks.mapping import Json, query_rows
from connectors.quickbooks.pull import batch_items
from connectors.quickbooks.sdk import SdkCalls
from connectors.quickbooks.writes import qbo_request_id
from syncd.domain import THREE_DECIMAL, AccountRef, BooksAccounts
from syncd.errors import ConfigError, PermanentError
from syncd.ports.quickbooks import AccountNames

REFUND_ITEM_NAME = "Stripe Refund"


def quote(value: str) -> str:
    """A string literal for the QBO query language (backslash-escaped quotes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def select_by_name(entity: str, field: str, name: str) -> str:
    """A QBO query (not SQL: QBO's own language, with the literal escaped by :func:`quote`)."""
    return f"SELECT * FROM {entity} WHERE {field} = {quote(name)}"  # noqa: S608


@dataclass(frozen=True, slots=True)
class _Wanted:
    key: str
    entity: str
    name_field: str
    name: str
    create: Json | None  # None: must already exist


def _wanted(currency: str, home_currency: str, names: AccountNames) -> list[_Wanted]:
    currency = currency.upper()
    # Clearing mirrors the Stripe balance, one account per currency; the home one keeps the plain name.
    clearing = names.clearing if currency == home_currency.upper() else f"{names.clearing} {currency}"
    clearing_body: Json = {"Name": clearing, "AccountType": "Bank"}
    if currency != home_currency.upper():
        # Only a multicurrency company has foreign accounts; a home one takes the home currency.
        clearing_body["CurrencyRef"] = {"value": currency}
    wanted = [
        _Wanted(
            "clearing",
            "Account",
            "Name",
            clearing,
            clearing_body,
        ),
        _Wanted(
            "fee",
            "Account",
            "Name",
            names.fee_expense,
            {"Name": names.fee_expense, "AccountType": "Expense"},
        ),
        _Wanted("vendor", "Vendor", "DisplayName", names.stripe_vendor, {"DisplayName": names.stripe_vendor}),
        _Wanted(
            "method",
            "PaymentMethod",
            "Name",
            names.stripe_vendor,
            {"Name": names.stripe_vendor, "Type": "NON_CREDIT_CARD"},
        ),
    ]
    if currency in THREE_DECIMAL:
        wanted.append(
            _Wanted(
                "rounding",
                "Account",
                "Name",
                names.rounding,
                {"Name": names.rounding, "AccountType": "Expense"},
            )
        )
    bank = names.bank_for(currency, home_currency)
    if bank:
        wanted.append(_Wanted("bank", "Account", "Name", bank, None))
    if names.refund_income:
        wanted.append(
            _Wanted(
                "refund_income",
                "Account",
                "Name",
                names.refund_income,
                {"Name": names.refund_income, "AccountType": "Income"},
            )
        )
    return wanted


def ensure_accounts(
    calls: SdkCalls, realm_id: str, currency: str, home_currency: str, names: AccountNames
) -> BooksAccounts:
    """One batch call finds them all by name; each missing one is created with a requestid derived
    from the company, entity and name, so a retry or a second process never creates it twice."""
    wanted = _wanted(currency, home_currency, names)
    answer = batch_items(
        calls.batch(
            [{"bId": w.key, "Query": select_by_name(w.entity, w.name_field, w.name)} for w in wanted],
            None,
        )
    )
    found: dict[str, AccountRef] = {}
    for w in wanted:
        item = answer.get(w.key) or {}
        fault = fault_from_json(item)
        if fault is not None:
            raise error_for_fault(fault)
        rows = query_rows(item, w.entity)
        if rows and w.key == "bank":
            held = (rows[0].get("CurrencyRef") or {}).get("value") or home_currency
            if str(held).upper() != currency.upper():
                raise ConfigError(
                    "company.accounts.banks",
                    f"the QuickBooks account {w.name!r} is in {held}, not {currency.upper()}: name a "
                    f"{currency.upper()} bank account for {currency.upper()} payouts",
                )
        if rows:
            found[w.key] = AccountRef(str(rows[0]["Id"]), w.name)
        elif w.create is None:
            raise ConfigError("company.accounts.bank", f"no account named {w.name!r} in QuickBooks")
        else:
            found[w.key] = _create(calls, realm_id, w.entity, w.create, w.name)
    return BooksAccounts(
        currency=currency.upper(),
        clearing=found["clearing"],
        fee_expense=found["fee"],
        bank=found.get("bank"),
        stripe_vendor=found["vendor"],
        payment_method=found["method"],
        refund_income=found.get("refund_income"),
        rounding=found.get("rounding"),
    )


def _create(calls: SdkCalls, realm_id: str, entity: str, body: Json, name: str) -> AccountRef:
    request_id = qbo_request_id(f"setup:{realm_id}:{entity}:{name}")
    created: dict[str, Any] = calls.create(entity, body, request_id)
    obj = created.get(entity)
    if not isinstance(obj, dict) or "Id" not in obj:
        raise PermanentError(f"QBO answered the {entity} create without an Id")
    return AccountRef(str(obj["Id"]), name)


def ensure_refund_item(calls: SdkCalls, realm_id: str, income_account_id: str) -> str:
    """The Service item refund receipts use; QBO refund lines must name an item, not an account."""
    name = f"{REFUND_ITEM_NAME} {income_account_id}"
    rows = query_rows(calls.query(select_by_name("Item", "Name", name)), "Item")
    if rows:
        return str(rows[0]["Id"])
    body = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": income_account_id}}
    return _create(calls, realm_id, "Item", body, name).qbo_id
