"""Entity operations as QBO performs them: read, create, (sparse) update, void, delete, with SyncTokens."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator import shapes
from connectors.quickbooks.simulator.invoicing import Receivables
from connectors.quickbooks.simulator.refs import NAMED, check_unique, resolve_refs
from connectors.quickbooks.simulator.store import RealmState
from connectors.quickbooks.simulator.wire import (
    COMPANY_TZ,
    QboFault,
    business_rule,
    cents,
    currency_ref,
    money,
    not_found,
    qbo_time,
    stale_object,
    validation,
)

Entity = dict[str, Any]
_CLASSIFICATION = {
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Credit Card": "Liability",
    "Accounts Payable": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Expense": "Expense",
    "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense",
}
_DEFAULT_RATES = {"CAD": Decimal("0.7300"), "EUR": Decimal("1.0800"), "GBP": Decimal("1.2700")}
_TOTALLED = ("Purchase", "RefundReceipt", "Deposit", "CreditMemo", "SalesReceipt")


class Books:
    """One company's entity operations. Callers hold ``state.lock``; every change is emitted once."""

    def __init__(self, state: RealmState, now: Callable[[], datetime], currencies: tuple[str, ...]) -> None:
        self.state = state
        self.now = now
        self.home = currencies[0] if currencies else "USD"
        self.currencies = currencies or ("USD",)
        self.receivables = Receivables(state, now)

    # --- reads --------------------------------------------------------------------------------
    def read(self, name: str, entity_id: str) -> Entity:
        row = self.state.table(name).get(entity_id)
        if row is None:
            raise not_found(name, entity_id)
        return row

    # --- creates ------------------------------------------------------------------------------
    def create(self, name: str, body: Entity) -> Entity:
        row = copy.deepcopy(body)
        for key in ("Id", "SyncToken", "MetaData", "domain", "sparse", "status"):
            row.pop(key, None)
        check_unique(self.state, name, row)
        resolve_refs(self.state, row)
        links: list[tuple[str, Decimal]] = []
        if name == "Invoice":
            self._prepare_invoice(row)
        elif name == "Payment":
            customer = self._customer_of(row)
            self._currency(row, customer)
            links = self.receivables.price_payment(row, customer)
            row.setdefault("TxnDate", self._today())
            if "DepositToAccountRef" not in row:
                row["DepositToAccountRef"] = self._undeposited()
        else:
            self._prepare_other(name, row)
        when = self.now()
        entity_id = self.state.allocate_id()
        head = shapes.header(entity_id, 0, when)
        row = {**head, **row} if name != "Payment" else {**row, **head}
        self.state.table(name).put(row, when)
        if name == "Payment":
            touched = self.receivables.apply(entity_id, links, +1)
            for invoice_id in touched:
                self.state.emit("Invoice", invoice_id, "Update", when)
            self._credits(entity_id, row, +1, when)
        elif name == "Invoice":
            self.receivables.adjust_customer(row, money(row["Balance"]))
        elif name == "CreditMemo":
            self.receivables.adjust_customer(row, -money(row["RemainingCredit"]))
        self.state.emit(name, entity_id, "Create", when)
        return row

    def prepare_invoice(self, row: Entity) -> None:
        """Fill an invoice's defaults and totals as a create does, creating nothing (a template's probe)."""
        self._prepare_invoice(row)

    def _prepare_invoice(self, row: Entity) -> None:
        customer = self._customer_of(row)
        self._currency(row, customer)
        self.receivables.price_invoice(row)
        row.setdefault("TxnDate", self._today())
        row.setdefault("DueDate", row["TxnDate"])
        row.setdefault("DocNumber", str(1001 + len(self.state.table("Invoice"))))
        row.setdefault("LinkedTxn", [])
        row.setdefault("CustomField", [])
        if "BillAddr" not in row and "BillAddr" in customer:
            row["BillAddr"] = dict(customer["BillAddr"])
        if "BillEmail" not in row and "PrimaryEmailAddr" in customer:
            row["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"]}
        for key, default in (
            ("AllowIPNPayment", False),
            ("AllowOnlinePayment", False),
            ("AllowOnlineCreditCardPayment", False),
            ("AllowOnlineACHPayment", False),
            ("ApplyTaxAfterDiscount", False),
            ("PrintStatus", "NeedToPrint"),
            ("EmailStatus", "NotSet"),
        ):
            row.setdefault(key, default)

    def _prepare_other(self, name: str, row: Entity) -> None:
        if name == "Account":
            if not row.get("Name"):
                raise validation("Account.Name is required")
            account_type = row.get("AccountType") or "Bank"
            row["AccountType"] = account_type
            row.setdefault("Classification", _CLASSIFICATION.get(account_type, "Asset"))
            row.setdefault("FullyQualifiedName", row["Name"])
            row.setdefault("SubAccount", False)
            row.setdefault("Active", True)
            row.setdefault("CurrentBalance", 0)
            row.setdefault("CurrentBalanceWithSubAccounts", 0)
            self._currency(row, None)
        elif name in ("Customer", "Vendor"):
            if not row.get("DisplayName"):
                raise validation(f"{name}.DisplayName is required")
            row.setdefault("PrintOnCheckName", row["DisplayName"])
            row.setdefault("Active", True)
            row.setdefault("Balance", 0)
            if name == "Customer":
                row.setdefault("FullyQualifiedName", row["DisplayName"])
                row.setdefault("BalanceWithJobs", 0)
                row.setdefault("Job", False)
                row.setdefault("BillWithParent", False)
                row.setdefault("Taxable", False)
            else:
                row.setdefault("Vendor1099", False)
            self._currency(row, None)
        elif name == "Transfer":
            for key in ("FromAccountRef", "ToAccountRef", "Amount"):
                if key not in row:
                    raise validation(f"Transfer.{key} is required")
            if row["FromAccountRef"]["value"] == row["ToAccountRef"]["value"]:
                raise business_rule("Transfer accounts must differ")
            row["Amount"] = cents(money(row["Amount"]))
            row.setdefault("TxnDate", self._today())
            self._currency(row, None)
        elif name in _TOTALLED:
            self._total_lines(name, row)
        elif name in NAMED:
            if not row.get(NAMED[name]):
                raise validation(f"{name}.{NAMED[name]} is required")
            row.setdefault("Active", True)

    def _total_lines(self, name: str, row: Entity) -> None:
        lines = row.get("Line")
        if not isinstance(lines, list) or not lines:
            raise validation(f"{name}.Line is required")
        total = Decimal("0.00")
        for number, line in enumerate(lines, start=1):
            try:
                line["Amount"] = cents(money(line.get("Amount")))
            except (ValueError, ArithmeticError) as exc:
                raise validation("Line.Amount is required") from exc
            if line.get("DetailType") != "SubTotalLineDetail":
                total += line["Amount"]
                line.setdefault("Id", str(number))
        if name == "Purchase" and "AccountRef" not in row:
            raise validation("Purchase.AccountRef is required")
        if name in ("RefundReceipt", "Deposit") and "DepositToAccountRef" not in row:
            raise validation(f"{name}.DepositToAccountRef is required")
        if name == "Purchase":
            row.setdefault("PaymentType", "Cash")
        row["TotalAmt"] = total
        if name == "CreditMemo":
            self._customer_of(row)
            row["Balance"] = total
            row["RemainingCredit"] = total
        elif name in ("RefundReceipt", "SalesReceipt"):
            row["Balance"] = 0
        row.setdefault("TxnDate", self._today())
        customer = None
        if "CustomerRef" in row:
            customer = self.state.table("Customer").get(str(row["CustomerRef"].get("value")))
        self._currency(row, customer)

    # --- updates ------------------------------------------------------------------------------
    def _current(self, name: str, body: Entity) -> Entity:
        entity_id = body.get("Id")
        if entity_id in (None, ""):
            raise validation(f"{name}.Id is required")
        row = self.state.table(name).get(str(entity_id))
        if row is None:
            raise not_found(name, str(entity_id))
        token = body.get("SyncToken")
        if token is None:
            raise validation(f"{name}.SyncToken is required", code="2020")
        if str(token) != row["SyncToken"]:
            raise stale_object(name)
        return row

    def _bump(self, row: Entity, when: datetime) -> None:
        row["SyncToken"] = str(int(row["SyncToken"]) + 1)
        row["MetaData"] = {**row["MetaData"], "LastUpdatedTime": qbo_time(when)}
        row["sparse"] = False

    def update(self, name: str, body: Entity) -> Entity:
        current = self._current(name, body)
        patch = copy.deepcopy(body)
        for key in ("Id", "SyncToken", "MetaData", "domain", "sparse", "status"):
            patch.pop(key, None)
        if body.get("sparse") is True:
            row = {**copy.deepcopy(current), **patch}
        else:
            keep = {key: current[key] for key in ("domain", "sparse", "Id", "SyncToken", "MetaData")}
            row = {**keep, **patch}
        if name in NAMED and row.get(NAMED[name]) != current.get(NAMED[name]):
            check_unique(self.state, name, row, exclude=current["Id"])
        resolve_refs(self.state, row)
        when = self.now()
        touched: list[str] = []
        if name == "Invoice":
            if (
                "PrivateNote" in current
                and current.get("PrivateNote") == "Voided"
                and not current["TotalAmt"]
            ):
                raise business_rule("A voided invoice cannot be changed", code="6000")
            paid = self.receivables.paid_on(current)
            self._currency(row, self._customer_of(row))
            self.receivables.price_invoice(row, paid=paid)
            self.receivables.adjust_customer(current, money(row["Balance"]) - money(current["Balance"]))
        elif name == "Payment":
            old_links = self.receivables.payment_links(current)
            self.receivables.apply(current["Id"], old_links, -1)
            self._credits(current["Id"], current, -1, when)
            try:
                customer = self._customer_of(row)
                self._currency(row, customer)
                new_links = self.receivables.price_payment(row, customer)
            except QboFault:
                self.receivables.apply(current["Id"], old_links, +1)
                self._credits(current["Id"], current, +1, when)
                raise
            touched = self.receivables.apply(current["Id"], new_links, +1)
            self._credits(current["Id"], row, +1, when)
        elif name in _TOTALLED and "Line" in patch:
            self._total_lines(name, row)
        self._bump(row, when)
        self.state.table(name).put(row, when)
        for invoice_id in touched:
            self.state.emit("Invoice", invoice_id, "Update", when)
        self.state.emit(name, row["Id"], "Update", when)
        return row

    def void(self, name: str, body: Entity) -> Entity:
        current = self._current(name, body)
        when = self.now()
        if name == "Invoice":
            row = self.receivables.void_invoice(current)
        elif name == "Payment":
            links = self.receivables.payment_links(current)
            touched = self.receivables.apply(current["Id"], links, -1)
            self._credits(current["Id"], current, -1, when)
            row = self.receivables.void_payment(current)
            for invoice_id in touched:
                self.state.emit("Invoice", invoice_id, "Update", when)
        else:
            raise QboFault(400, "2030", "Invalid ID", f"Operation void is not supported for {name}")
        self._bump(row, when)
        self.state.table(name).put(row, when)
        self.state.emit(name, row["Id"], "Void", when)
        return row

    def delete(self, name: str, body: Entity) -> Entity:
        if name in NAMED:
            raise business_rule(
                f"{name} cannot be deleted; make it inactive (Active=false) instead", code="6000"
            )
        current = self._current(name, body)
        when = self.now()
        if name == "Invoice":
            self.receivables.assert_deletable_invoice(current)
        elif name == "Payment":
            for invoice_id in self.receivables.apply(
                current["Id"], self.receivables.payment_links(current), -1
            ):
                self.state.emit("Invoice", invoice_id, "Update", when)
            self._credits(current["Id"], current, -1, when)
        elif name == "CreditMemo":
            if money(current.get("RemainingCredit", 0)) != money(current.get("TotalAmt", 0)):
                raise business_rule(
                    "This credit memo is applied to invoices. Delete the payments applying it first.",
                    code="6480",
                )
            self.receivables.adjust_customer(current, money(current.get("RemainingCredit", 0)))
        tombstone = {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}
        self.state.table(name).remove(current["Id"], when, tombstone)
        self.state.emit(name, current["Id"], "Delete", when)
        return tombstone

    # --- helpers ------------------------------------------------------------------------------
    def _credits(self, payment_id: str, payment: Entity, sign: int, when: datetime) -> None:
        """Use or give back the credit memos ``payment`` links, each change emitted."""
        credits = self.receivables.credit_links(payment)
        for memo_id in self.receivables.apply_credits(payment_id, credits, sign):
            self.state.emit("CreditMemo", memo_id, "Update", when)

    def _today(self) -> str:
        return self.now().astimezone(COMPANY_TZ).date().isoformat()

    def _undeposited(self) -> dict[str, str]:
        for row in self.state.table("Account").rows():
            if row.get("AccountSubType") == "UndepositedFunds":
                return shapes.ref(row["Id"], row["Name"])
        raise business_rule("No Undeposited Funds account")

    def _customer_of(self, row: Entity) -> Entity:
        ref = row.get("CustomerRef")
        if not isinstance(ref, dict) or not ref.get("value"):
            raise validation("CustomerRef is required", code="2020")
        customer = self.state.table("Customer").get(str(ref["value"]))
        if customer is None:
            raise QboFault(
                400, "2500", "Invalid Reference Id", f"Invalid Reference Id : Customer {ref['value']}"
            )
        return customer

    def _currency(self, row: Entity, customer: Entity | None) -> None:
        wanted = (row.get("CurrencyRef") or {}).get("value")
        owned = (customer or {}).get("CurrencyRef", {}).get("value")
        code = wanted or owned or self.home
        if code not in self.currencies:
            raise business_rule(f"Currency {code} is not enabled in this company", code="6000")
        if owned and code != owned:
            raise business_rule(f"The customer's currency is {owned}, not {code}", code="6000")
        row["CurrencyRef"] = currency_ref(code)
        if code != self.home:
            rate = row.get("ExchangeRate")
            row["ExchangeRate"] = (
                money(rate) if rate not in (None, 0) else _DEFAULT_RATES.get(code, Decimal(1))
            )
        else:
            row.pop("ExchangeRate", None)
