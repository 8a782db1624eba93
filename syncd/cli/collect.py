"""``syncd collect``: hand an overdue account to a collector, the collections-agency export, and
small-debt write-offs (``syncd.cli.writeoffs``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from syncd.cli.options import company_option, opened_context
from syncd.cli.text import shown
from syncd.cli.writeoffs import writeoff, writeoffs


@click.group()
def collect() -> None:
    """Overdue accounts: collectors and the collections agency."""


@collect.command("assign")
@company_option
@click.option("--customer", "customer_id", required=True, help="The QBO customer id.")
@click.option("--to", "collector", required=True, help="The collector's email (their staff sign-in).")
def assign(realm_id: str, customer_id: str, collector: str) -> int:
    """Hand a customer's account to a collector by hand (rules in [company.collections] assign
    do it on their own after the final notice)."""
    from syncd.stages import collectors

    with opened_context() as ctx:
        ctx.settings.company(realm_id)
        done = collectors.assign(ctx, realm_id, customer_id, collector, by="cli")
    click.echo(f"Customer {shown(customer_id)}: {done.summary}.")
    return 0


@collect.command("export")
@company_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CSV to this file (default: standard output).",
)
def export(realm_id: str, out: Path | None) -> int:
    """The collections-agency CSV: every overdue invoice of the accounts past the last reminder
    step owing at least agency_above, with the reminders sent and the promises recorded."""
    from syncd.stages.agency import agency_export

    with opened_context() as ctx:
        threshold = ctx.settings.company(realm_id).collections.agency_above
        if out is None:
            accounts = agency_export(ctx, realm_id, sys.stdout)
        else:
            with out.open("w", newline="", encoding="utf-8") as handle:
                accounts = agency_export(ctx, realm_id, handle)
    if threshold <= 0:
        click.echo("Note: agency_above is 0 for this company, so no account is exported.", err=True)
    click.echo(f"{accounts} account(s) exported for company {realm_id}.", err=True)
    return 0


collect.add_command(writeoffs)
collect.add_command(writeoff)
