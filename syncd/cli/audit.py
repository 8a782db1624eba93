"""The ``syncd audit`` command: exit 0 when the books agree with Stripe, 1 when anything is off,
78 on bad configuration (raised as ConfigError and mapped by the CLI main)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from syncd.cli.options import json_option, opened_context
from syncd.cli.text import shown

EX_DIFFERENCES = 1


@click.command("audit")
@click.option("--company", "realm", required=True, help="QuickBooks company (realm id) to audit.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC).")
@click.option(
    "--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC), inclusive."
)
@json_option
@click.option(
    "--no-qbo-reads",
    "skip_reads",
    is_flag=True,
    help="Trust syncd's own record of the QBO entries instead of reading the clearing accounts (no reads).",
)
def audit(realm: str, start: datetime, end: datetime, as_json: bool, skip_reads: bool) -> int:
    """Match every Stripe balance transaction of the period to its QBO entry and back, every posting
    to the clearing accounts to a Stripe movement, and the clearing account's movement to the Stripe
    balance's, per currency."""
    if end.date() < start.date():
        raise click.BadParameter("--to is before --from", param_hint="--to")
    from syncd.audit import run_audit  # heavy: imported only when auditing, not for every command

    with opened_context() as ctx:
        report = run_audit(ctx, realm, start.date(), end.date(), verify_qbo=not skip_reads)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo("\n".join(shown(line) for line in report.to_text().split("\n")))
    return 0 if report.clean else EX_DIFFERENCES
