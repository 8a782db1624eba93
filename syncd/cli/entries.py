"""``syncd entries``: Payments syncd wrote that someone deleted, voided or changed in QBO, and
rebooking or releasing one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from syncd.cli.options import company_option, json_option, opened_context
from syncd.errors import PermanentError

if TYPE_CHECKING:
    from syncd.context import Context

EX_NOT_UNDER_REVIEW = 1


@click.command()
@company_option
@click.option(
    "--rebook",
    "rebook_id",
    default=None,
    metavar="PAYMENT_ID",
    help="Write this entry (QBO Payment id) again; it applies to what its invoices owe then.",
)
@click.option(
    "--release",
    "release_id",
    default=None,
    metavar="PAYMENT_ID",
    help="Leave QBO as it is and let this entry's invoices be paid again.",
)
@click.option("--all", "show_all", is_flag=True, help="List resolved entries too.")
@json_option
def entries(
    realm_id: str, rebook_id: str | None, release_id: str | None, show_all: bool, as_json: bool
) -> int:
    """Payments syncd recorded that were deleted, voided or changed in QuickBooks: their invoices
    are not offered for payment until you rebook or release the entry.

    Exits 1 when the entry to rebook or release is not under review, 2 when both are given.
    """
    if rebook_id is not None and release_id is not None:
        click.echo("syncd: give --rebook or --release, not both", err=True)
        return 2
    with opened_context() as ctx:
        ctx.settings.company(realm_id)
        if rebook_id is not None or release_id is not None:
            return _resolve(ctx, realm_id, rebook_id, release_id)
        rows = _listing(ctx, realm_id, show_all)
    if as_json:
        click.echo(json.dumps({"company": realm_id, "entries": rows}, indent=2))
        return 0
    if rows:
        click.echo(f"{'entry':<10} {'change':<8} {'status':<9} {'amount':>12}  stripe payment / invoices")
    for row in rows:
        amount = f"{row['amount']} {row['currency']}"
        invoices = ", ".join(row["invoice_ids"])
        click.echo(
            f"{row['entry']:<10} {row['change']:<8} {row['status']:<9} {amount:>12}  "
            f"{row['stripe_payment']} / {invoices}"
        )
    waiting = sum(1 for r in rows if r["status"] == "open")
    click.echo(f"{waiting} entr{'y' if waiting == 1 else 'ies'} awaiting review in company {realm_id}")
    return 0


def _listing(ctx: Context, realm_id: str, show_all: bool) -> list[dict[str, Any]]:
    from syncd.store import reviews

    with ctx.db.transaction() as session:
        return [
            {
                "entry": r.qbo_payment_id,
                "change": r.change,
                "detail": r.detail,
                "status": r.status,
                "amount": str(r.amount),
                "currency": r.currency,
                "stripe_payment": r.payment_intent_id,
                "invoice_ids": list(r.invoice_ids),
                "detected_at": r.detected_at.isoformat(),
                "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
            }
            for r in reviews.listed(session, realm_id, open_only=not show_all)
        ]


def _resolve(ctx: Context, realm_id: str, rebook_id: str | None, release_id: str | None) -> int:
    from syncd.stages import entries as stage

    try:
        if rebook_id is not None:
            stage.rebook(ctx, realm_id, rebook_id)
            click.echo(
                f"Queued QuickBooks Payment {rebook_id} to be written again; the running daemon writes "
                "it (applied to what the invoices owe then, the rest as customer credit)."
            )
        elif release_id is not None:
            stage.release(ctx, realm_id, release_id)
            click.echo(f"Released entry {release_id}: its invoices can be paid again.")
    except PermanentError as exc:
        click.echo(f"syncd: {exc}", err=True)
        return EX_NOT_UNDER_REVIEW
    return 0
