"""The many-companies bench's payer: checkout sessions opened beforehand, then paid at the stated
rate from a pool of threads (the Stripe simulator delivers their webhooks concurrently), so the
arrival rate is the bench's choice and not how fast one payer thread gets through its calls."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from syncd.bench_loop import SESSION_ID, _start, wait_for_payments
from syncd.catalog import EffectKind
from syncd.context import Context
from syncd.stages.collect import PortalService
from syncd.store.models import LINK_OF_INVOICE, Effect, InvoiceRow, PortalLink

# Link write-backs: what keeps a freshly synced company's QBO budget busy.
WRITEBACKS = (EffectKind.QBO_INVOICE_LINKS.value, EffectKind.QBO_INVOICE_LINK.value)


def payable_counts(ctx: Context) -> dict[str, int]:
    """Open invoices with a payment link, per company."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(InvoiceRow.company_id, func.count())
            .join(PortalLink, LINK_OF_INVOICE)
            .where(InvoiceRow.status.in_(["open", "partial"]), InvoiceRow.balance > Decimal(0))
            .group_by(InvoiceRow.company_id)
        ).all()
    return {str(company): int(count) for company, count in rows}


def wait_ready(ctx: Context, realms: list[str], per: int, need: int, timeout: float) -> list[str]:
    """The companies with ``per`` payable invoices, in the order they became so, once there are
    ``need`` of them (or ``timeout`` seconds passed)."""
    deadline = time.monotonic() + timeout
    order: list[str] = []
    wanted = set(realms)
    while True:
        counts = payable_counts(ctx)
        order += [r for r in realms if r not in order and counts.get(r, 0) >= per and r in wanted]
        if len(order) >= need or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


def open_payable(ctx: Context, realms: Iterable[str], per: int) -> dict[str, list[str]]:
    """Up to ``per`` payable invoice ids of each company."""
    found: dict[str, list[str]] = {}
    with ctx.db.transaction() as session:
        for realm in realms:
            found[realm] = list(
                session.scalars(
                    select(InvoiceRow.qbo_id)
                    .join(PortalLink, LINK_OF_INVOICE)
                    .where(
                        InvoiceRow.company_id == realm,
                        InvoiceRow.status.in_(["open", "partial"]),
                        InvoiceRow.balance > Decimal(0),
                    )
                    .order_by(InvoiceRow.qbo_id)
                    .limit(per)
                )
            )
    return found


def activity(ctx: Context, realms: list[str], per: int) -> dict[str, int]:
    """How busy the companies are: not yet payable (first sync going on), write-backs pending."""
    counts = payable_counts(ctx)
    with ctx.db.transaction() as session:
        pending = session.scalar(
            select(func.count()).where(Effect.kind.in_(WRITEBACKS), Effect.status == "pending")
        )
    return {
        "companies_still_syncing": sum(1 for r in realms if counts.get(r, 0) < per),
        "link_writebacks_pending": int(pending or 0),
    }


def open_sessions(ctx: Context, targets: list[tuple[str, str]], threads: int = 4) -> dict[str, str]:
    """A checkout session for each (realm, invoice), as the portal opens one for a payer."""
    backend = PortalService(ctx)

    def one(target: tuple[str, str]) -> tuple[str, str]:
        realm, invoice_id = target
        url = _start(backend, ctx.links.token(realm, invoice_id))
        found = SESSION_ID.search(url)
        if found is None:
            raise RuntimeError(f"no checkout session id in {url}")
        return f"{realm}:{invoice_id}", found.group(0)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-open") as pool:
        return dict(pool.map(one, targets))


def pay_at_rate(stripe: Any, session_ids: list[str], rate: float, threads: int = 8) -> float:
    """Pay each session ``rate`` per second on a schedule (not one after another); the seconds the
    schedule took."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-pay") as pool:
        for i, session_id in enumerate(session_ids):
            wait = started + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pool.submit(stripe.pay_checkout, session_id, "card_success")
    return time.monotonic() - started


def first_arrivals(stripe: Any, sessions: Iterable[str], seen: dict[str, float]) -> dict[str, float]:
    """The first time a webhook naming each session (or its PaymentIntent) was seen in ``seen``."""
    intents = {s["id"]: s.get("payment_intent") for s in stripe.objects("checkout.session")}
    first: dict[str, float] = {}
    for sid in sessions:
        times = [seen.get(k) for k in (sid, str(intents.get(sid) or ""))]
        known = [t for t in times if t is not None]
        if known:
            first[sid] = min(known)
    return first


def arrival_rate(arrivals: Iterable[float]) -> float | None:
    """Payments a second as their first webhooks reached syncd."""
    ordered = sorted(arrivals)
    if len(ordered) < 2 or ordered[-1] <= ordered[0]:
        return None
    return round((len(ordered) - 1) / (ordered[-1] - ordered[0]), 2)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def booked(ctx: Context, sessions: set[str], timeout: float) -> dict[str, float]:
    return wait_for_payments(ctx, sessions, timeout)
