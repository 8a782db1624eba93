"""``syncd failed``: list the effects that failed for good, and put them back once fixed."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from syncd.cli.options import state
from syncd.cli.text import shown


@click.command()
@click.option("--company", "realm_id", default=None, help="Only this company (QBO realm id).")
@click.option("--retry", is_flag=True, help="Queue them again (after fixing the cause).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def failed(realm_id: str | None, retry: bool, as_json: bool) -> int:
    """Effects (QBO writes, Stripe calls, emails) that failed permanently, with their errors, and
    payments Stripe took that QuickBooks has not accepted yet (retried on their own).

    Exits 1 when there are any and --retry was not given, so a monitor can alert on it.
    """
    from syncd.stages.books.charges import unbooked
    from syncd.store import effects
    from syncd.store.effects import EffectStatus
    from syncd.store.models import Effect

    ctx = state().context()
    try:
        with ctx.db.transaction() as session:
            query = select(Effect).where(Effect.status == EffectStatus.FAILED.value).order_by(Effect.id)
            if realm_id is not None:
                query = query.where(Effect.company_id == realm_id)
            rows = [
                {
                    "key": e.key,
                    "kind": e.kind,
                    "company": e.company_id,
                    "attempts": e.attempts,
                    "failed_at": e.done_at.isoformat() if e.done_at else None,
                    "error": e.last_error,
                }
                for e in session.scalars(query)
            ]
            held = unbooked(session, realm_id)
        requeued = effects.requeue_failed(ctx.db, company_id=realm_id, now=ctx.clock()) if retry else 0
    finally:
        ctx.db.dispose()
    charges = [
        {
            "key": h.key,
            "company": h.company_id,
            "amount": str(h.amount) if h.amount is not None else None,
            "currency": h.currency,
            "customer": h.customer,
            "held_since": h.since.isoformat() if h.since else None,
            "error": h.error,
        }
        for h in held
    ]
    if as_json:
        click.echo(json.dumps({"failed": rows, "unbooked_charges": charges, "requeued": requeued}, indent=2))
    else:
        for row in rows:
            where = f"{shown(row['company'])}  {shown(row['key'])}  ({row['attempts']} attempts)"
            click.echo(f"{where}: {shown(row['error'])}")
        for h in held:
            click.echo(shown(h.line()))
        click.echo(
            f"{len(rows)} failed effect(s), {len(held)} payment(s) not booked in QuickBooks yet"
            + (f", {requeued} queued again" if retry else "")
        )
    return 1 if (rows or held) and not retry else 0
