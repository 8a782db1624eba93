"""The overcharge invariant: no customer paid more for an invoice than its balance when a session
was opened for it, plus what a page syncd was closing took (booked as credit, staff told)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.store.models import Effect

ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "xof", "xaf"}


def _major(amount: int, currency: str) -> Decimal:
    if currency.lower() in ZERO_DECIMAL:
        return Decimal(amount)
    return Decimal(amount) / 100


def overcharges(stripe: Any, session: Session, opened: dict[str, Decimal]) -> list[str]:
    """Invoices (of ``opened``: invoice id -> highest balance when a session was opened for it)
    whose customer Stripe charged more than allowed, read from Stripe's succeeded charges."""
    taken = {
        str(ch["payment_intent"]): _major(int(ch["amount"]), str(ch["currency"]))
        for ch in stripe.objects("charge")
        if ch["status"] == "succeeded"
    }
    late = set(
        session.scalars(select(Effect.key).where(Effect.key.like("email:staff:late-checkout:%"))).all()
    )
    charged: dict[str, Decimal] = defaultdict(Decimal)
    stale: dict[str, Decimal] = defaultdict(Decimal)
    for checkout in stripe.objects("checkout.session"):
        amount = taken.get(str(checkout.get("payment_intent")))
        if amount is None:
            continue
        for invoice_id in str((checkout.get("metadata") or {}).get("invoice_ids", "")).split(","):
            if invoice_id not in opened:
                continue
            charged[invoice_id] += amount
            if f"email:staff:late-checkout:{checkout['id']}" in late:
                stale[invoice_id] += amount
    return [
        f"invoice {inv}: charged {charged[inv]}, balance when opened {opened[inv]}, paid late {stale[inv]}"
        for inv in sorted(charged)
        if charged[inv] > opened[inv] + stale[inv]
    ]
