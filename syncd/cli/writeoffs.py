"""``syncd collect writeoffs`` and ``syncd collect writeoff approve|decline``: small debts proposed
for write-off, and staff's decision on each."""

from __future__ import annotations

import json

import click

from syncd.cli.options import json_option, opened_context
from syncd.cli.text import shown


@click.command("writeoffs")
@click.option("--company", "realm_id", default=None, help="Only this company (QBO realm id).")
@click.option("--all", "everything", is_flag=True, help="Every write-off, decided ones included.")
@json_option
def writeoffs(realm_id: str | None, everything: bool, as_json: bool) -> int:
    """Small debts proposed for write-off (an account past the last step owing less than
    write_off_below overdue), waiting for a decision."""
    from syncd.stages import writeoffs as stage

    with opened_context() as ctx:
        if realm_id is not None:
            ctx.settings.company(realm_id)  # a ConfigError for an unknown company
        rows = stage.listing(ctx, realm_id, None if everything else stage.PROPOSALS)
    if as_json:
        listed = [
            {
                "id": r.id,
                "company": r.company_id,
                "customer_id": r.customer_id,
                "name": r.customer_name,
                "amount": str(r.amount),
                "currency": r.currency,
                "status": r.status,
                "proposed_at": r.proposed_at.isoformat(),
                "decided_by": r.decided_by,
                "qbo_credit_memo_id": r.qbo_id,
            }
            for r in rows
        ]
        click.echo(json.dumps({"write_offs": listed}, indent=2))
        return 0
    if rows:
        click.echo(f"{'id':>6}  {'company':<18} {'customer':<10} {'name':<28} {'amount':>12}  status")
    for r in rows:
        amount = f"{r.amount} {r.currency}"
        status = r.status + (f" by {shown(r.decided_by)}" if r.decided_by else "")
        click.echo(
            f"{r.id:>6}  {shown(r.company_id):<18} {shown(r.customer_id):<10} "
            f"{shown(r.customer_name)[:28]:<28} {amount:>12}  {status}"
        )
    what = "write-off(s)" if everything else "write-off(s) waiting for a decision"
    click.echo(f"{len(rows)} {what}" + (f" in company {realm_id}" if realm_id else ""))
    if rows and not everything:
        click.echo("Decide with: syncd collect writeoff approve|decline ID --by YOUR_EMAIL")
    return 0


@click.group("writeoff")
def writeoff() -> None:
    """Approve or decline a proposed write-off."""


def _decide(write_off_id: int, realm_id: str | None, by: str, *, approve: bool) -> int:
    from syncd.stages import writeoffs as stage

    with opened_context() as ctx:
        if realm_id is not None:
            ctx.settings.company(realm_id)
        line = stage.decide(ctx, write_off_id, approve=approve, by=by, realm_id=realm_id)
    click.echo(shown(line))
    return 0


_by = click.option("--by", "by", required=True, help="Your email: the staff member deciding.")
_company = click.option("--company", "realm_id", default=None, help="The company it must belong to.")


@writeoff.command("approve")
@click.argument("write_off_id", type=int)
@_by
@_company
def approve(write_off_id: int, by: str, realm_id: str | None) -> int:
    """Approve: the running daemon writes the credit memo (or bad debt) into QuickBooks once.
    Refused when the customer's overdue balance changed or was paid since it was proposed."""
    return _decide(write_off_id, realm_id, by, approve=True)


@writeoff.command("decline")
@click.argument("write_off_id", type=int)
@_by
@_company
def decline(write_off_id: int, by: str, realm_id: str | None) -> int:
    """Decline: nothing is written; the account is chased as before."""
    return _decide(write_off_id, realm_id, by, approve=False)
