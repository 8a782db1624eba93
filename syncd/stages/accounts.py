"""The QBO accounts the books post to, found or created once per company and currency, then kept."""

from __future__ import annotations

import threading

from syncd.context import Context
from syncd.domain import THREE_DECIMAL, BooksAccounts
from syncd.store.books_accounts import keep, kept
from syncd.store.models import Company

# One lookup per company and currency at a time in a process: a burst of a company's first
# payments (prepared in parallel) would otherwise each spend a batch call on the same lookup.
_LOOKUPS: dict[tuple[str, str], threading.Lock] = {}
_LOOKUPS_LOCK = threading.Lock()


def books_accounts(ctx: Context, realm_id: str, currency: str) -> BooksAccounts:
    found = _kept(ctx, realm_id, currency)
    if found is not None:
        return found
    with _LOOKUPS_LOCK:
        lock = _LOOKUPS.setdefault((realm_id, currency.upper()), threading.Lock())
    with lock:
        found = _kept(ctx, realm_id, currency)  # another thread may have just found them
        if found is not None:
            return found
        found = ctx.qbo(realm_id).ensure_accounts(currency.upper(), ctx.settings.company(realm_id).accounts)
        with ctx.db.transaction() as session:
            keep(session, realm_id, found, now=ctx.clock())
        return found


def _kept(ctx: Context, realm_id: str, currency: str) -> BooksAccounts | None:
    """What is kept, unless the settings moved on since (then None: look them up afresh)."""
    names = ctx.settings.company(realm_id).accounts
    with ctx.db.transaction() as session:
        stored = kept(session, realm_id, currency)
        company = session.get(Company, realm_id)
        home = company.home_currency if company is not None else None
    if stored is not None:
        # A payout bank named (or renamed) since the accounts were kept is looked up afresh.
        bank = stored.bank.name if stored.bank else None
        stale = home is not None and names.bank_for(currency, home) != bank
        # A three-decimal currency kept before rounding accounts existed gets its rounding account.
        if currency.upper() in THREE_DECIMAL and stored.rounding is None:
            stale = True
        if not stale:
            return stored
    return None
