"""``syncd request-card``: email a customer a link to put a card or bank account on file."""

from __future__ import annotations

import click

from syncd.cli.options import state
from syncd.cli.text import shown


@click.command("request-card")
@click.option("--company", "realm_id", required=True, help="The company (QBO realm id).")
@click.option("--customer", "customer_id", required=True, help="The QBO customer id.")
@click.option("--reason", default=None, help="A note the customer sees (who asks and why).")
def request_card(realm_id: str, customer_id: str, reason: str | None) -> int:
    """Email the customer a link to keep a card or bank account on file (Stripe's page, nothing
    is charged). Once per customer per day: running it again sends nothing new."""
    from syncd.stages.card_requests import request_card as queue

    ctx = state().context()
    try:
        done = queue(ctx, realm_id, customer_id, reason.strip() if reason else None)
    finally:
        ctx.db.dispose()
    if done.queued:
        click.echo(f"Queued an email to {shown(done.email)} with a link to put a card on file.")
    else:
        click.echo(f"Already queued today for {shown(done.email)}; nothing new was sent.")
    return 0
