"""``syncd plan``: make an installment plan over an invoice's open balance, list plans, cancel one."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import click

from syncd.cli.options import company_option, json_option, opened_context
from syncd.cli.text import shown

if TYPE_CHECKING:
    from syncd.context import Context

EX_REFUSED = 1
_EVERY = ("week", "2weeks", "month")


def _refuse(message: str) -> int:
    click.echo(f"syncd: {message}", err=True)
    return EX_REFUSED


@click.group()
def plan() -> None:
    """Installment plans: an invoice's balance paid as a down payment and dated installments."""


@plan.command("create")
@company_option
@click.option(
    "--invoice", "invoice_ref", required=True, help="The invoice: its number (DocNumber) or QBO id."
)
@click.option("--down", required=True, help='The down payment, e.g. "100.00" (less than the balance).')
@click.option("--count", type=int, required=True, help="How many installments after the down payment.")
@click.option("--every", type=click.Choice(_EVERY), required=True, help="How far apart they fall.")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The down payment's date, YYYY-MM-DD (default: today, company time).",
)
@json_option
def create(
    realm_id: str, invoice_ref: str, down: str, count: int, every: str, start: Any, as_json: bool
) -> int:
    """Split the invoice's open balance into the down payment and COUNT installments that sum to
    it exactly (the remainder cent goes on the last). Each is charged on its date on the
    customer's autopay method, or emailed as a link for that amount when they have no autopay.

    Exits 1, changing nothing, for a paid or voided invoice, one already in a plan, a down payment
    of zero or of the whole balance or more, or a count under 1."""
    from syncd.domain.plans import Cadence, PlanError
    from syncd.stages import plans

    try:
        amount = Decimal(down.strip())
    except InvalidOperation:
        return _refuse(f"--down {down!r} is not an amount (write it like 100.00)")
    if not amount.is_finite():
        return _refuse(f"--down {down!r} is not an amount (write it like 100.00)")
    start_on: date | None = start.date() if start is not None else None
    with opened_context() as ctx:
        try:
            plan_id = plans.create(
                ctx, realm_id, invoice_ref, down=amount, count=count, every=Cadence(every), start=start_on
            )
        except PlanError as exc:
            return _refuse(str(exc))
        [made] = [p for p in _listing(ctx, realm_id) if p["id"] == plan_id]
    if as_json:
        click.echo(json.dumps(made, indent=2))
        return 0
    click.echo(f"Plan {plan_id} made for invoice {shown(made['invoice'])} ({shown(made['customer'] or '')}):")
    _echo_schedule(made)
    return 0


@plan.command("list")
@company_option
@click.option("--all", "show_all", is_flag=True, help="Include closed and cancelled plans.")
@json_option
def list_plans(realm_id: str, show_all: bool, as_json: bool) -> int:
    """The company's plans in force (active or suspended) with each installment's date, amount and
    status; with --all, closed and cancelled ones too."""
    with opened_context() as ctx:
        rows = [p for p in _listing(ctx, realm_id) if show_all or p["status"] in ("active", "suspended")]
    if as_json:
        click.echo(json.dumps({"company": realm_id, "plans": rows}, indent=2))
        return 0
    for row in rows:
        reason = f" ({shown(row['reason'])})" if row["reason"] else ""
        click.echo(
            f"Plan {row['id']}: invoice {shown(row['invoice'])}, {shown(row['customer'] or '')}, "
            f"{row['balance']} {row['currency']} every {row['every']}: {row['status']}{reason}"
        )
        _echo_schedule(row)
    click.echo(f"{len(rows)} plan(s) in company {realm_id}")
    return 0


@plan.command("cancel")
@click.argument("plan_id", type=int)
@click.option("--company", "realm_id", default=None, help="The company (QBO realm id), to be sure.")
def cancel(plan_id: int, realm_id: str | None) -> int:
    """Cancel plan PLAN_ID: nothing more of it is charged or sent (an installment already being
    charged still lands in the books); the invoice is reminded and autopaid as any other again."""
    from syncd.domain.plans import PlanError
    from syncd.stages import plans

    with opened_context() as ctx:
        try:
            done = plans.cancel(ctx, realm_id, plan_id)
        except PlanError as exc:
            return _refuse(str(exc))
    click.echo(f"Plan {plan_id} (invoice {done.invoice_id}) cancelled.")
    return 0


def _echo_schedule(row: dict[str, Any]) -> None:
    for item in row["installments"]:
        label = "down payment" if item["seq"] == 0 else f"installment {item['seq']}"
        click.echo(
            f"  {label:<15} {item['due_on']}  {item['amount']:>12} {row['currency']}  {item['status']}"
        )


def _listing(ctx: Context, realm_id: str) -> list[dict[str, Any]]:
    from syncd.store import mirror
    from syncd.store import plans as store

    rows = []
    with ctx.db.transaction() as session:
        found = store.plans_of(session, realm_id)
        parts = store.installments_of(session, [p.id for p in found])
        for p in found:
            invoice = mirror.get_invoice(session, realm_id, p.invoice_id)
            customer = mirror.get_customer(session, realm_id, p.customer_id)
            rows.append(
                {
                    "id": p.id,
                    "invoice_id": p.invoice_id,
                    "invoice": (invoice.doc_number if invoice else None) or p.invoice_id,
                    "customer_id": p.customer_id,
                    "customer": customer.display_name if customer else None,
                    "currency": p.currency,
                    "balance": f"{p.balance:f}",
                    "every": p.every,
                    "status": p.status,
                    "reason": p.status_reason,
                    "installments": [
                        {
                            "seq": i.seq,
                            "due_on": i.due_on.isoformat(),
                            "amount": f"{i.amount:f}",
                            "status": i.status,
                        }
                        for i in parts[p.id]
                    ],
                }
            )
    return rows
