"""Receivables rules: invoice totals and balances, payments applied to invoices, voids and their undoing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator import shapes
from connectors.quickbooks.simulator.store import RealmState
from connectors.quickbooks.simulator.wire import (
    QboFault,
    business_rule,
    cents,
    money,
    qbo_time,
    validation,
)

Entity = dict[str, Any]
ZERO = Decimal("0.00")


class Receivables:
    """Keeps Invoice.Balance, Invoice.LinkedTxn, Payment.UnappliedAmt and Customer.Balance consistent."""

    def __init__(self, state: RealmState, now: Callable[[], datetime]) -> None:
        self.state = state
        self.now = now

    # --- invoices -----------------------------------------------------------------------------
    def price_invoice(self, body: Entity, *, paid: Decimal = ZERO) -> None:
        """Number the lines, add the subtotal line, compute TotalAmt and Balance (minus ``paid``)."""
        lines = body.get("Line")
        if not isinstance(lines, list) or not lines:
            raise validation("Invoice.Line is required", code="2020")
        kept: list[Entity] = []
        subtotal = ZERO
        discount = ZERO
        number = 0
        for line in lines:
            if not isinstance(line, dict):
                raise validation("Invoice.Line entries must be objects", code="2010")
            kind = line.get("DetailType", "SalesItemLineDetail")
            if kind == "SubTotalLineDetail":
                continue
            try:
                amount = cents(money(line.get("Amount")))
            except (ValueError, ArithmeticError) as exc:
                raise validation("Line.Amount is required and must be a number", code="2020") from exc
            line = dict(line)
            line["Amount"] = amount
            if kind == "DiscountLineDetail":
                discount += amount
            else:
                number += 1
                line.setdefault("Id", str(number))
                line.setdefault("LineNum", number)
                line["DetailType"] = kind
                detail = dict(line.get(kind) or {})
                detail.setdefault("TaxCodeRef", {"value": "NON"})
                line[kind] = detail
                subtotal += amount
            kept.append(line)
        sales = [line for line in kept if line["DetailType"] != "DiscountLineDetail"]
        discounts = [line for line in kept if line["DetailType"] == "DiscountLineDetail"]
        body["Line"] = [*sales, shapes.subtotal_line(subtotal), *discounts]
        tax_detail = body.get("TxnTaxDetail") or {}
        tax = cents(money(tax_detail.get("TotalTax", 0)))
        body["TxnTaxDetail"] = tax_detail if tax else {"TotalTax": 0}
        total = subtotal - discount + tax
        if total < 0:
            raise business_rule("Invoice total cannot be negative")
        if paid > total:
            raise business_rule(f"Invoice total {total} is less than the {paid} already paid on it")
        body["TotalAmt"] = total
        body["Balance"] = total - paid

    def paid_on(self, invoice: Entity) -> Decimal:
        return cents(money(invoice.get("TotalAmt", 0)) - money(invoice.get("Balance", 0)))

    def void_invoice(self, invoice: Entity) -> Entity:
        if any(link.get("TxnType") == "Payment" for link in invoice.get("LinkedTxn", [])):
            raise business_rule(
                "This invoice has payments applied to it. Void or delete the payments first.", code="6480"
            )
        voided = copy.deepcopy(invoice)
        for line in voided.get("Line", []):
            line["Amount"] = ZERO
        voided["TxnTaxDetail"] = {"TotalTax": 0}
        voided["TotalAmt"] = ZERO
        voided["Balance"] = ZERO
        voided["PrivateNote"] = "Voided"
        self.adjust_customer(invoice, -money(invoice.get("Balance", 0)))
        return voided

    def assert_deletable_invoice(self, invoice: Entity) -> None:
        if any(link.get("TxnType") == "Payment" for link in invoice.get("LinkedTxn", [])):
            raise business_rule(
                "This invoice has payments applied to it. Delete the payments first.", code="6480"
            )
        self.adjust_customer(invoice, -money(invoice.get("Balance", 0)))

    def adjust_customer(self, txn: Entity, delta: Decimal) -> None:
        if not delta:
            return
        table = self.state.table("Customer")
        customer = table.get(str(txn.get("CustomerRef", {}).get("value", "")))
        if customer is None:
            return
        updated = dict(customer)
        updated["Balance"] = cents(money(customer.get("Balance", 0)) + delta)
        updated["BalanceWithJobs"] = updated["Balance"]
        # A balance change is derived data: QBO does not bump the customer's SyncToken for it.
        table.put(updated, datetime.fromisoformat(str(customer["MetaData"]["LastUpdatedTime"])))

    # --- payments -----------------------------------------------------------------------------
    def _invoice_links(self, payment: Entity) -> list[tuple[str, Decimal]]:
        links: list[tuple[str, Decimal]] = []
        for line in payment.get("Line") or []:
            if not isinstance(line, dict):
                raise validation("Payment.Line entries must be objects", code="2010")
            for linked in line.get("LinkedTxn") or []:
                txn_type = linked.get("TxnType")
                if txn_type not in ("Invoice", "CreditMemo"):
                    raise validation(f"Unsupported LinkedTxn.TxnType {txn_type!r}", code="2010")
                if txn_type == "Invoice":
                    try:
                        amount = cents(money(line.get("Amount")))
                    except (ValueError, ArithmeticError) as exc:
                        raise validation("Payment Line.Amount is required", code="2020") from exc
                    if amount < 0:
                        raise business_rule("Payment line amounts cannot be negative")
                    links.append((str(linked.get("TxnId")), amount))
        return links

    def price_payment(self, body: Entity, customer: Entity) -> list[tuple[str, Decimal]]:
        """Validate the payment against the invoices it links; returns the links to apply."""
        if "TotalAmt" not in body:
            raise validation("Payment.TotalAmt is required", code="2020")
        total = cents(money(body["TotalAmt"]))
        if total < 0:
            raise business_rule("Payment.TotalAmt cannot be negative")
        links = self._invoice_links(body)
        credits = self.credit_links(body)
        currency = body.get("CurrencyRef", {}).get("value")
        credited = self._check_credits(credits, customer, currency)
        applied = sum((amount for _, amount in links), ZERO) - credited
        if applied < 0:
            raise business_rule(
                f"The credits applied ({credited}) exceed the amounts applied to invoices", code="6150"
            )
        if applied > total:
            raise business_rule(
                f"The amounts applied ({applied}) exceed the payment total ({total})", code="6150"
            )
        per_invoice: dict[str, Decimal] = {}
        for invoice_id, amount in links:
            per_invoice[invoice_id] = per_invoice.get(invoice_id, ZERO) + amount
        for invoice_id, amount in per_invoice.items():
            self._check_linked("Invoice", invoice_id, amount, customer, currency)
        body["TotalAmt"] = total
        body["UnappliedAmt"] = total - applied
        body["ProcessPayment"] = bool(body.get("ProcessPayment", False))
        lines = []
        for line in body.get("Line") or []:
            line = dict(line)
            if line.get("LinkedTxn") and line["LinkedTxn"][0].get("TxnType") == "Invoice":
                invoice_id = str(line["LinkedTxn"][0]["TxnId"])
                invoice = self.state.table("Invoice").get(invoice_id) or {}
                fresh = shapes.payment_line(
                    cents(money(line["Amount"])),
                    invoice_id,
                    money(invoice.get("Balance", 0)),
                    str(invoice.get("DocNumber", "")),
                )
                line = {**line, "Amount": fresh["Amount"], "LineEx": fresh["LineEx"]}
            lines.append(line)
        body["Line"] = lines
        return links

    def credit_links(self, payment: Entity) -> list[tuple[str, Decimal]]:
        """The credit memos a payment applies, and how much of each (a zero-total payment that
        links a memo and invoices is how QBO applies a credit to invoices)."""
        links: list[tuple[str, Decimal]] = []
        for line in payment.get("Line") or []:
            for linked in (line.get("LinkedTxn") if isinstance(line, dict) else None) or []:
                if linked.get("TxnType") == "CreditMemo":
                    try:
                        amount = cents(money(line.get("Amount")))
                    except (ValueError, ArithmeticError) as exc:
                        raise validation("Payment Line.Amount is required", code="2020") from exc
                    if amount < 0:
                        raise business_rule("Payment line amounts cannot be negative")
                    links.append((str(linked.get("TxnId")), amount))
        return links

    def _check_credits(self, credits: list[tuple[str, Decimal]], customer: Entity, currency: Any) -> Decimal:
        per_memo: dict[str, Decimal] = {}
        for memo_id, amount in credits:
            per_memo[memo_id] = per_memo.get(memo_id, ZERO) + amount
        for memo_id, amount in per_memo.items():
            self._check_linked("CreditMemo", memo_id, amount, customer, currency)
        return sum(per_memo.values(), ZERO)

    def _check_linked(
        self, entity: str, txn_id: str, amount: Decimal, customer: Entity, currency: Any
    ) -> None:
        """A transaction a payment line links: it exists, is the payer's, in the payment's currency,
        and has ``amount`` left open (an invoice's Balance, a credit memo's RemainingCredit)."""
        invoice = entity == "Invoice"
        name = "Invoice" if invoice else "Credit memo"
        found = self.state.table(entity).get(txn_id)
        if found is None:
            raise QboFault(400, "2500", "Invalid Reference Id", f"Invalid Reference Id : {entity} {txn_id}")
        if found.get("CustomerRef", {}).get("value") != customer["Id"]:
            raise business_rule(f"{name} {txn_id} belongs to another customer", code="6190")
        if found.get("CurrencyRef", {}).get("value") != currency:
            raise business_rule(f"{name} {txn_id} is in another currency than the payment", code="6000")
        left = money(found.get("Balance" if invoice else "RemainingCredit", 0))
        if amount > left:
            raise business_rule(
                f"The payment amount {amount} exceeds the open balance {left} of invoice {txn_id}"
                if invoice
                else f"The amount {amount} exceeds the remaining credit {left} of credit memo {txn_id}",
                code="6140",
            )

    def apply_credits(self, payment_id: str, credits: list[tuple[str, Decimal]], sign: int) -> list[str]:
        """Use (sign +1) or give back (sign -1) a payment's credit memo amounts: the memo's
        RemainingCredit drops as the invoices' balances do; returns the memos touched."""
        touched: list[str] = []
        table = self.state.table("CreditMemo")
        when = self.now()
        for memo_id, amount in credits:
            memo = table.get(memo_id)
            if memo is None:
                continue
            updated = _relinked(memo, payment_id, sign, when)
            updated["RemainingCredit"] = cents(money(memo.get("RemainingCredit", 0)) - sign * amount)
            updated["Balance"] = updated["RemainingCredit"]
            table.put(updated, when)
            self.adjust_customer(memo, sign * amount)  # the credit used no longer lowers what they owe
            if memo_id not in touched:
                touched.append(memo_id)
        return touched

    def apply(self, payment_id: str, links: list[tuple[str, Decimal]], sign: int) -> list[str]:
        """Apply (sign +1) or undo (sign -1) a payment's invoice links; returns the invoices touched."""
        touched: list[str] = []
        table = self.state.table("Invoice")
        when = self.now()
        for invoice_id, amount in links:
            invoice = table.get(invoice_id)
            if invoice is None:
                continue
            updated = _relinked(invoice, payment_id, sign, when)
            updated["Balance"] = cents(money(invoice.get("Balance", 0)) - sign * amount)
            table.put(updated, when)
            self.adjust_customer(invoice, -sign * amount)
            if invoice_id not in touched:
                touched.append(invoice_id)
        return touched

    def payment_links(self, payment: Entity) -> list[tuple[str, Decimal]]:
        return self._invoice_links(payment)

    def void_payment(self, payment: Entity) -> Entity:
        voided = copy.deepcopy(payment)
        for line in voided.get("Line", []):
            line["Amount"] = ZERO
            line.pop("LineEx", None)
        voided["TotalAmt"] = ZERO
        voided["UnappliedAmt"] = ZERO
        voided["PrivateNote"] = "Voided"
        return voided


def _relinked(entity: Entity, payment_id: str, sign: int, when: datetime) -> Entity:
    """A copy of ``entity`` (an invoice or a credit memo) linked to the payment (sign +1) or no
    longer linked (sign -1), as a new version; the caller sets its balance."""
    updated = copy.deepcopy(entity)
    others = [
        link
        for link in updated.get("LinkedTxn", [])
        if not (link.get("TxnType") == "Payment" and link.get("TxnId") == payment_id)
    ]
    if sign > 0:
        others.append({"TxnId": payment_id, "TxnType": "Payment"})
    updated["LinkedTxn"] = others
    updated["SyncToken"] = str(int(updated["SyncToken"]) + 1)
    updated["MetaData"] = {**updated["MetaData"], "LastUpdatedTime": qbo_time(when)}
    return updated
