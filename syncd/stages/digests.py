"""Each collector's morning digest: one email a local day listing the accounts they own, what each
owes overdue, any open promise and hold, installments missed or due within a week, with a link to
the account's page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from syncd.catalog.payloads import CollectorDigest
from syncd.context import Context
from syncd.domain.plans import InstallmentStatus
from syncd.stages import views
from syncd.stages.notify import local_now, send
from syncd.store import collections, effects, holds, mirror, plans
from syncd.store.effects import Claimed
from syncd.worker import Done

INSTALLMENTS_AHEAD = timedelta(days=7)  # an installment shows this long before its day


def queue_digests(ctx: Context, realm_id: str) -> int:
    """From the sending hour, one digest per collector who owns accounts; returns how many were
    queued now (a second run the same day queues none)."""
    company = ctx.settings.company(realm_id)
    local = local_now(ctx, realm_id)
    if local.hour < company.sending_hour:
        return 0
    day = local.date().isoformat()
    queued = 0
    with ctx.db.transaction() as session:
        for collector in collections.collectors(session, realm_id):
            digest = CollectorDigest(collector, day=day)
            if effects.enqueue(session, digest, company_id=realm_id, now=ctx.clock()):
                queued += 1
    return queued


def send_digest(ctx: Context, effect: Claimed) -> Done:
    """Render and send one digest (no accounts left: nothing is sent)."""
    digest = CollectorDigest.of(effect)
    realm_id = effect.company_id
    today = local_now(ctx, realm_id).date()
    base = ctx.settings.public_url.rstrip("/") + f"/staff/c/{realm_id}/collect"
    lines: list[dict[str, Any]] = []
    with ctx.db.transaction() as session:
        for account in collections.accounts_of(session, realm_id, digest.collector):
            overdue = collections.overdue(session, realm_id, account.customer_id, today)
            if not overdue:
                continue
            customer = mirror.get_customer(session, realm_id, account.customer_id)
            promise = collections.open_promise(session, realm_id, account.customer_id)
            oldest = overdue[0].due_date
            lines.append(
                {
                    "name": customer.display_name if customer else account.customer_id,
                    "owed": sum((i.balance for i in overdue), Decimal(0)),
                    "currency": overdue[0].currency,
                    "days_overdue": (today - oldest).days if oldest else 0,
                    "promise": f"{promise.amount} by {promise.promised_on.isoformat()}" if promise else None,
                    "on_hold": holds.active(session, realm_id, account.customer_id) is not None,
                    "installments": [
                        {
                            "amount": part.amount,
                            "currency": part.currency,
                            "due_on": part.due_on,
                            "missed": part.status == InstallmentStatus.MISSED.value,
                        }
                        for part in plans.to_follow(
                            session, realm_id, account.customer_id, today + INSTALLMENTS_AHEAD
                        )
                    ],
                    "url": f"{base}/{account.customer_id}",
                }
            )
        name = views.company_name(ctx, realm_id, session)
    if not lines:
        return Done(remote_id="skipped:no-accounts")
    lines.sort(key=lambda line: -line["days_overdue"])
    context = {"company_name": name, "collector": digest.collector, "accounts": lines}
    return send(ctx, effect, "collector_digest", digest.collector, context)
