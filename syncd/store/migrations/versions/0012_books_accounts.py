"""books_accounts: the QBO accounts the books post to, moved out of the cursors table

Revision ID: 0012
Revises: 0011

Account setup kept its findings as a JSON blob in a cursor named ``qbo.accounts.<currency>``.
They become one row per company, currency and role. A blob written before refund accounts
existed (no ``refund_income`` key) is not carried over: setup looks those accounts up again once,
as it did before.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import syncd.store.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PREFIX = "qbo.accounts."
# The roles as this revision knows them (BooksAccounts' fields then).
ROLES = (
    "clearing",
    "fee_expense",
    "bank",
    "stripe_vendor",
    "payment_method",
    "refund_income",
    "rounding",
)

_cursors = sa.table(
    "cursors",
    sa.column("company_id", sa.String),
    sa.column("name", sa.String),
    sa.column("value", sa.Text),
    sa.column("updated_at", syncd.store.models.UtcDateTime(timezone=True)),
)
_accounts = sa.table(
    "books_accounts",
    sa.column("company_id", sa.String),
    sa.column("currency", sa.String),
    sa.column("role", sa.String),
    sa.column("qbo_id", sa.String),
    sa.column("name", sa.String),
    sa.column("updated_at", syncd.store.models.UtcDateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "books_accounts",
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", syncd.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("company_id", "currency", "role", name=op.f("pk_books_accounts")),
    )
    conn = op.get_bind()
    cached = _cursors.c.name.like(f"{PREFIX}%")
    rows = []
    for company_id, name, value, updated_at in conn.execute(
        sa.select(_cursors.c.company_id, _cursors.c.name, _cursors.c.value, _cursors.c.updated_at).where(
            cached
        )
    ):
        data = json.loads(value)
        if "refund_income" not in data:
            continue
        currency = str(data.get("currency") or name.removeprefix(PREFIX)).upper()
        for role in ROLES:
            ref = data.get(role)
            if ref:
                rows.append(
                    {
                        "company_id": company_id,
                        "currency": currency,
                        "role": role,
                        "qbo_id": str(ref["qbo_id"]),
                        "name": str(ref["name"]),
                        "updated_at": updated_at,
                    }
                )
    if rows:
        conn.execute(sa.insert(_accounts), rows)
    conn.execute(sa.delete(_cursors).where(cached))


def downgrade() -> None:
    conn = op.get_bind()
    blobs: dict[tuple[str, str], dict[str, object]] = {}
    latest: dict[tuple[str, str], datetime] = {}
    for company_id, currency, role, qbo_id, name, updated_at in conn.execute(sa.select(_accounts)):
        key = (company_id, currency)
        blobs.setdefault(key, {"currency": currency} | dict.fromkeys(ROLES))[role] = {
            "qbo_id": qbo_id,
            "name": name,
        }
        latest[key] = max(latest.get(key, updated_at), updated_at)
    for (company_id, currency), blob in blobs.items():
        cursor = {"company_id": company_id, "name": f"{PREFIX}{currency}", "value": json.dumps(blob)}
        conn.execute(sa.insert(_cursors).values(**cursor, updated_at=latest[(company_id, currency)]))
    op.drop_table("books_accounts")
