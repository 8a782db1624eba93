"""``syncd authorize``: card authorisations placed before a job (place, list, release)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import click

from syncd.cli.options import company_option, json_option, opened_context
from syncd.cli.text import shown

if TYPE_CHECKING:
    from syncd.context import Context


@click.group()
def authorize() -> None:
    """Holds on a customer's saved card before a job: the next invoice is paid from the hold (see
    [company.authorizations]). Not credit holds: those are ``syncd holds``."""


def _amount(value: str) -> Decimal:
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise click.BadParameter(f"not an amount: {value!r} (write it like 150.00)") from None


@authorize.command("place")
@company_option
@click.option("--customer", "customer_id", required=True, help="The QBO customer id.")
@click.option("--amount", required=True, help="The amount to hold, in the customer's currency (e.g. 150.00).")
@click.option("--note", default=None, help="Shown to the customer (e.g. the job).")
def place(realm_id: str, customer_id: str, amount: str, note: str | None) -> int:
    """Place a hold on the customer's default saved card; the daemon authorises it at Stripe and
    emails the customer."""
    from syncd.stages import authorizations

    held = _amount(amount)
    with opened_context() as ctx:
        authorization_id = authorizations.place(ctx, realm_id, customer_id, held, note)
    click.echo(f"authorisation {authorization_id} of {held} for customer {shown(customer_id)} queued")
    return 0


@authorize.command("list")
@company_option
@json_option
def list_authorizations(realm_id: str, as_json: bool) -> int:
    """Every authorisation of the company: amount, status, placed, release time, invoice."""
    with opened_context() as ctx:
        rows = _listing(ctx, realm_id)
    if as_json:
        click.echo(json.dumps({"company": realm_id, "authorizations": rows}, indent=2))
        return 0
    if rows:
        click.echo(
            f"{'id':<18} {'customer':<10} {'amount':>10} {'status':<10} {'placed':<16} "
            f"{'released by':<16} invoice"
        )
    for row in rows:
        captured = f" ({row['captured']} taken)" if row["captured"] else ""
        click.echo(
            f"{row['id']:<18} {shown(row['customer_id']):<10} {row['amount']:>10} {row['status']:<10} "
            f"{row['placed_at'][:16]:<16} {row['release_at'][:16]:<16} "
            f"{shown(row['invoice_id'] or '-')}{captured}"
        )
    click.echo(f"{len(rows)} authorisation(s) in company {realm_id}")
    return 0


@authorize.command("release")
@company_option
@click.argument("authorization_id")
def release(realm_id: str, authorization_id: str) -> int:
    """Release a held authorisation now (nothing is charged)."""
    from syncd.stages import authorizations

    with opened_context() as ctx:
        authorizations.release_now(ctx, realm_id, authorization_id)
    click.echo(f"authorisation {shown(authorization_id)} will be released")
    return 0


def _listing(ctx: Context, realm_id: str) -> list[dict[str, Any]]:
    from syncd.store import authorizations as store

    with ctx.db.transaction() as session:
        return [
            {
                "id": row.id,
                "customer_id": row.customer_id,
                "amount": str(row.amount),
                "currency": row.currency,
                "status": row.status,
                "note": row.note,
                "placed_at": row.placed_at.isoformat(),
                "release_at": row.release_at.isoformat(),
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                "invoice_id": row.invoice_id,
                "captured": str(row.captured_amount) if row.captured_amount is not None else None,
                "decline_code": row.decline_code,
            }
            for row in store.of_company(session, realm_id)
        ]
