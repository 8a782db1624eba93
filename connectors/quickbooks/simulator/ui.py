"""The human page: recent invoices and payments of a simulated company, every value HTML-escaped."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from connectors.quickbooks.simulator.company import SimCompany
from connectors.quickbooks.simulator.wire import money

SHOW_INVOICES = 200
SHOW_PAYMENTS = 50


def invoice_status(row: dict[str, Any], today: str) -> str:
    total = money(row.get("TotalAmt", 0))
    balance = money(row.get("Balance", 0))
    if row.get("PrivateNote") == "Voided" and total == 0:
        return "voided"
    if balance == 0:
        return "paid"
    if balance < total:
        return "partly paid"
    if str(row.get("DueDate", "9999")) < today:
        return "overdue"
    return "open"


def _newest(company: SimCompany, name: str, limit: int) -> list[dict[str, Any]]:
    table = company.state.table(name)
    since = datetime.fromtimestamp(0).astimezone()
    newest = table.changed_since(since)[-limit:]
    rows = [table.get(entity_id) for _, entity_id in reversed(newest)]
    return [row for row in rows if row is not None]


def _amount(value: Any, currency: str) -> str:
    return escape(f"{money(value):,.2f} {currency}")


def render(company: SimCompany, now: datetime) -> str:
    today = now.date().isoformat()
    info = company.state.company_info
    invoice_rows = []
    for row in _newest(company, "Invoice", SHOW_INVOICES):
        currency = str(row.get("CurrencyRef", {}).get("value", ""))
        status = invoice_status(row, today)
        invoice_rows.append(
            f'<tr class="{escape(status.replace(" ", "-"))}" data-id="{escape(str(row["Id"]))}">'
            f"<td>{escape(str(row.get('DocNumber', '')))}</td>"
            f"<td>{escape(str(row.get('CustomerRef', {}).get('name', '')))}</td>"
            f"<td>{escape(str(row.get('DueDate', '')))}</td>"
            f'<td class="num">{_amount(row.get("TotalAmt", 0), currency)}</td>'
            f'<td class="num">{_amount(row.get("Balance", 0), currency)}</td>'
            f"<td>{escape(status)}</td></tr>"
        )
    payment_rows = []
    for row in _newest(company, "Payment", SHOW_PAYMENTS):
        currency = str(row.get("CurrencyRef", {}).get("value", ""))
        invoices = ", ".join(
            str(link.get("TxnId")) for line in row.get("Line", []) for link in line.get("LinkedTxn", [])
        )
        payment_rows.append(
            f"<tr><td>{escape(str(row['Id']))}</td><td>{escape(str(row.get('TxnDate', '')))}</td>"
            f"<td>{escape(str(row.get('CustomerRef', {}).get('name', '')))}</td>"
            f'<td class="num">{_amount(row.get("TotalAmt", Decimal(0)), currency)}</td>'
            f"<td>{escape(invoices)}</td><td>{escape(str(row.get('PrivateNote', '')))}</td></tr>"
        )
    name = escape(str(info.get("CompanyName", "")))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>{name} - QuickBooks simulator</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}}.num{{text-align:right}}
tr.paid td{{color:#2a7a2a}}tr.overdue td{{color:#b00}}
tr.voided td{{color:#999;text-decoration:line-through}}</style>
</head><body>
<h1>{name}</h1>
<p>QuickBooks Online simulator &middot; company {escape(company.realm_id)} &middot;
{len(company.state.table("Invoice"))} invoices &middot; {len(company.state.table("Customer"))} customers</p>
<h2>Invoices (most recently changed first)</h2>
<table id="invoices"><thead><tr><th>No.</th><th>Customer</th><th>Due</th><th>Total</th><th>Balance</th>
<th>Status</th></tr></thead><tbody>
{"".join(invoice_rows)}
</tbody></table>
<h2>Recent payments</h2>
<table id="payments"><thead><tr><th>Id</th><th>Date</th><th>Customer</th><th>Amount</th><th>Invoices</th>
<th>Memo</th></tr></thead><tbody>
{"".join(payment_rows)}
</tbody></table>
</body></html>
"""
