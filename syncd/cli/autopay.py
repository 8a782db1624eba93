"""``syncd autopay list``: who is enrolled in autopay, with which method and cap, and their next
automatic charges."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from syncd.cli.options import company_option, json_option, opened_context
from syncd.cli.text import shown

if TYPE_CHECKING:
    from syncd.context import Context


@click.group()
def autopay() -> None:
    """Automatic payments of enrolled customers (see [company.autopay])."""


@autopay.command("list")
@company_option
@click.option("--all", "show_all", is_flag=True, help="Include enrollments that were turned off.")
@json_option
def list_enrollments(realm_id: str, show_all: bool, as_json: bool) -> int:
    """The customers enrolled in autopay: method, per-charge cap, since when, and the charges
    scheduled next (with --all, also those turned off and why)."""
    with opened_context() as ctx:
        enabled = ctx.settings.company(realm_id).autopay.enabled
        rows = [r for r in _listing(ctx, realm_id) if show_all or r["stopped_at"] is None]
    if as_json:
        click.echo(json.dumps({"company": realm_id, "enabled": enabled, "enrollments": rows}, indent=2))
        return 0
    if not enabled:
        click.echo("Note: autopay is not enabled for this company ([company.autopay] enabled = false).")
    if rows:
        click.echo(f"{'customer':<10} {'name':<26} {'method':<24} {'cap':>10}  status / next charges")
    for row in rows:
        cap = row["cap"] or "-"
        state = f"off since {row['stopped_at'][:10]} ({row['stop_reason']})" if row["stopped_at"] else "on"
        upcoming = ", ".join(f"{c['amount']} {c['currency']} on {c['on']}" for c in row["scheduled"])
        click.echo(
            f"{shown(row['customer_id']):<10} {shown(row['name'] or '')[:26]:<26} "
            f"{shown(row['method'])[:24]:<24} {cap:>10}  {state}{'; ' + upcoming if upcoming else ''}"
        )
    click.echo(f"{len(rows)} customer(s) enrolled in autopay in company {realm_id}")
    return 0


def _listing(ctx: Context, realm_id: str) -> list[dict[str, Any]]:
    from syncd.domain.autopay import ChargeStatus
    from syncd.stages.autopay_mail import describe_method
    from syncd.store import autopay as store
    from syncd.store import mirror
    from syncd.store.models import SavedMethodRow

    rows = []
    with ctx.db.transaction() as session:
        for enrollment in store.enrolled(session, realm_id):
            customer = mirror.get_customer(session, realm_id, enrollment.customer_id)
            method = session.get(SavedMethodRow, enrollment.payment_method_id)
            scheduled = store.charges_for_customer(
                session, realm_id, enrollment.customer_id, [ChargeStatus.SCHEDULED]
            )
            rows.append(
                {
                    "customer_id": enrollment.customer_id,
                    "name": customer.display_name if customer else None,
                    "method": describe_method(method),
                    "cap": str(enrollment.cap) if enrollment.cap is not None else None,
                    "enrolled_at": enrollment.enrolled_at.isoformat(),
                    "stopped_at": enrollment.stopped_at.isoformat() if enrollment.stopped_at else None,
                    "stop_reason": enrollment.stop_reason,
                    "scheduled": [
                        {
                            "invoice_id": c.invoice_id,
                            "amount": str(c.balance),
                            "currency": c.currency,
                            "on": c.charge_on.isoformat(),
                        }
                        for c in scheduled
                    ],
                }
            )
    return rows
