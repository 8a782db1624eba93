"""``syncd holds``: the customers on credit hold (no bank debit offered), and releasing one."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from syncd.cli.options import company_option, json_option, opened_context
from syncd.cli.text import shown

if TYPE_CHECKING:
    from syncd.context import Context

EX_NOT_HELD = 1


@click.command()
@company_option
@click.option(
    "--release",
    "customer_id",
    default=None,
    metavar="CUSTOMER_ID",
    help="Take this customer (QBO customer id) off hold: bank debit is offered to them again.",
)
@json_option
def holds(realm_id: str, customer_id: str | None, as_json: bool) -> int:
    """Customers on credit hold: failed or returned bank debits reached bank_debit_strikes (they
    are offered card only), the escalation ladder's hold_after_days, or hold_after_failed_charges
    automatic charges failed in a row (autopay enrollment refused). With --release, take one
    customer off hold.

    Exits 1 when the customer to release is unknown or not on hold.
    """
    with opened_context() as ctx:
        company = ctx.settings.company(realm_id)
        if customer_id is not None:
            return _release(ctx, realm_id, customer_id)
        rows = _listing(ctx, realm_id)
    if as_json:
        click.echo(json.dumps({"company": realm_id, "holds": rows}, indent=2))
        return 0
    if company.bank_debit_strikes == 0:
        click.echo("Note: bank_debit_strikes is 0 for this company, so these holds are not enforced.")
    if rows:
        click.echo(f"{'customer':<12} {'name':<30} {'strikes':>7}  on hold since")
    for row in rows:
        name = shown(row["name"])[:30]
        since = datetime.fromisoformat(row["since"]).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{shown(row['customer_id']):<12} {name:<30} {row['strikes']:>7}  {since}")
    click.echo(f"{len(rows)} customer(s) on credit hold in company {realm_id}")
    return 0


def _listing(ctx: Context, realm_id: str) -> list[dict[str, Any]]:
    from syncd.store import holds as store
    from syncd.store import mirror

    with ctx.db.transaction() as session:
        rows = []
        for hold in store.current(session, realm_id):
            customer = mirror.get_customer(session, realm_id, hold.customer_id)
            rows.append(
                {
                    "customer_id": hold.customer_id,
                    "name": customer.display_name if customer else None,
                    "strikes": store.strikes_since_release(session, realm_id, hold.customer_id),
                    "since": hold.placed_at.isoformat(),
                }
            )
    return rows


def _release(ctx: Context, realm_id: str, customer_id: str) -> int:
    from syncd.store import holds as store
    from syncd.store import mirror

    with ctx.db.transaction() as session:
        customer = mirror.get_customer(session, realm_id, customer_id)
        released = store.release(session, realm_id, customer_id, now=ctx.clock())
    who = f"{shown(customer_id)} ({shown(customer.display_name)})" if customer else shown(customer_id)
    if released is None:
        problem = "is not on credit hold" if customer else "is not a known customer"
        click.echo(f"syncd: customer {who} {problem} in company {realm_id}", err=True)
        return EX_NOT_HELD
    click.echo(f"Released customer {who} from credit hold; only new failed or returned payments count now.")
    return 0
