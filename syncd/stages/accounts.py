"""The QBO accounts the books post to, found or created once per company and currency, then kept."""

from __future__ import annotations

import json

from syncd.context import Context
from syncd.domain import AccountRef, BooksAccounts
from syncd.store import cursors


def books_accounts(ctx: Context, realm_id: str, currency: str) -> BooksAccounts:
    name = f"qbo.accounts.{currency.upper()}"
    with ctx.db.transaction() as session:
        stored = cursors.get(session, realm_id, name)
    if stored:
        data = json.loads(stored)
        return BooksAccounts(
            currency=data["currency"],
            clearing=AccountRef(**data["clearing"]),
            fee_expense=AccountRef(**data["fee_expense"]),
            bank=AccountRef(**data["bank"]) if data.get("bank") else None,
            stripe_vendor=AccountRef(**data["stripe_vendor"]),
            payment_method=AccountRef(**data["payment_method"]) if data.get("payment_method") else None,
        )
    found = ctx.qbo(realm_id).ensure_accounts(currency.upper(), ctx.settings.company(realm_id).accounts)

    def ref(a: AccountRef | None) -> dict[str, str] | None:
        return {"qbo_id": a.qbo_id, "name": a.name} if a else None

    blob = json.dumps(
        {
            "currency": found.currency,
            "clearing": ref(found.clearing),
            "fee_expense": ref(found.fee_expense),
            "bank": ref(found.bank),
            "stripe_vendor": ref(found.stripe_vendor),
            "payment_method": ref(found.payment_method),
        }
    )
    with ctx.db.transaction() as session:
        cursors.put(session, realm_id, name, blob, now=ctx.clock())
    return found
