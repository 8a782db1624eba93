"""``syncd preview``: list the emails the next cycle would send, sending nothing."""

from __future__ import annotations

import json

import click

from syncd.cli.options import state
from syncd.errors import ConfigError

BACKLOG = {
    "link_only": "the open invoices get payment links; none of them is emailed.",
    "email_open": "every open invoice is emailed (one message per customer).",
    "email_not_overdue": "the open invoices not yet overdue are emailed; the overdue ones are not.",
}


@click.command()
@click.option("--company", "realm_id", default=None, help="One company (QBO realm id); default: all.")
@click.option(
    "--no-pull",
    is_flag=True,
    help="Plan from syncd's own copy of the invoices instead of reading QuickBooks first.",
)
@click.option(
    "--tomorrow",
    is_flag=True,
    help="Rehearse tomorrow's cycle at the company's sending hour instead (who gets which reminder step).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def preview(realm_id: str | None, no_pull: bool, tomorrow: bool, as_json: bool) -> int:
    """List the emails the next cycle would send (to whom, which invoices, which template).

    The cycle is rehearsed: QuickBooks is read, links and messages are planned, and every change
    is rolled back. Nothing is sent and syncd's state is left as it was.
    """
    from syncd.preview import preview as rehearse
    from syncd.preview import tomorrow_at
    from syncd.store import migrate as schema

    ctx = state().context()
    try:
        if schema.current_revision(ctx.db) is None:
            raise ConfigError("database.url", "the database has no schema yet: run `syncd migrate`")
        realms = [realm_id] if realm_id else [c.realm_id for c in ctx.settings.companies]
        for realm in realms:
            ctx.settings.company(realm)
        results = [
            rehearse(
                ctx, realm, read_quickbooks=not no_pull, at=tomorrow_at(ctx, realm) if tomorrow else None
            )
            for realm in realms
        ]
    finally:
        ctx.db.dispose()
    if as_json:
        click.echo(json.dumps([r.as_json() for r in results], indent=2, default=str))
        return 0
    for result in results:
        click.echo(f"{result.name} ({result.realm_id}): {result.open_invoices} open invoices")
        if result.first_sync:
            click.echo(f'  First sync, first_sync = "{result.policy}": {BACKLOG[result.policy]}')
        if result.new_links:
            click.echo(f"  {result.new_links} new payment links would be published.")
        if not result.emails:
            click.echo("  No email would be sent.")
            continue
        click.echo(f"  {len(result.emails)} emails would be sent:")
        for email in result.emails:
            what = ", ".join(i.describe() for i in email.invoices) or "-"
            waiting = "  (already queued)" if email.queued_before else ""
            click.echo(f"    to {email.to}  template {email.template}  invoices {what}{waiting}")
    return 0
