"""The QBO accounts the books post to, found or created once per company and currency, then kept."""

from __future__ import annotations

import json

from syncd.context import Context
from syncd.domain import THREE_DECIMAL, AccountRef, BooksAccounts
from syncd.store import cursors
from syncd.store.models import Company


def books_accounts(ctx: Context, realm_id: str, currency: str) -> BooksAccounts:
    name = f"qbo.accounts.{currency.upper()}"
    names = ctx.settings.company(realm_id).accounts
    with ctx.db.transaction() as session:
        stored = cursors.get(session, realm_id, name)
        company = session.get(Company, realm_id)
        home = company.home_currency if company is not None else None
    data = json.loads(stored) if stored else None
    stored_bank = (data.get("bank") or {}).get("name") if data else None
    # A payout bank named (or renamed) since the accounts were stored is looked up afresh.
    stale = home is not None and names.bank_for(currency, home) != stored_bank
    # A three-decimal currency stored before rounding accounts existed gets its rounding account.
    if data is not None and currency.upper() in THREE_DECIMAL and not data.get("rounding"):
        stale = True
    # A blob stored before refund accounts existed lacks refund_income: look them up again once.
    if data is not None and "refund_income" in data and not stale:
        return BooksAccounts(
            currency=data["currency"],
            clearing=AccountRef(**data["clearing"]),
            fee_expense=AccountRef(**data["fee_expense"]),
            bank=AccountRef(**data["bank"]) if data.get("bank") else None,
            stripe_vendor=AccountRef(**data["stripe_vendor"]),
            payment_method=AccountRef(**data["payment_method"]) if data.get("payment_method") else None,
            refund_income=AccountRef(**data["refund_income"]) if data.get("refund_income") else None,
            rounding=AccountRef(**data["rounding"]) if data.get("rounding") else None,
        )
    found = ctx.qbo(realm_id).ensure_accounts(currency.upper(), names)

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
            "refund_income": ref(found.refund_income),
            "rounding": ref(found.rounding),
        }
    )
    with ctx.db.transaction() as session:
        cursors.put(session, realm_id, name, blob, now=ctx.clock())
    return found
