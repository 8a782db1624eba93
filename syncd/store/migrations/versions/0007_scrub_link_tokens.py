"""scrub payable link tokens stored in clear before 0007

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-29 15:00:00

Invoice memos copied back from QBO, raw Stripe events and Checkout effects kept the portal link
token itself; from now on only its digest is stored, and this takes the old copies out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd import links

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

_invoices = sa.table(
    "invoices", sa.column("company_id", sa.String), sa.column("qbo_id", sa.String), sa.column("memo", sa.Text)
)
_inbox = sa.table(
    "inbox",
    sa.column("id", sa.Integer),
    sa.column("event_type", sa.String),
    sa.column("payload", sa.LargeBinary),
)
_effects = sa.table(
    "effects", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("payload", sa.JSON)
)


def upgrade() -> None:
    conn = op.get_bind()
    memos = conn.execute(
        sa.select(_invoices.c.company_id, _invoices.c.qbo_id, _invoices.c.memo).where(
            _invoices.c.memo.like("%/i/%")
        )
    ).all()
    for company_id, qbo_id, memo in memos:
        clean = links.scrub(memo)
        if clean != memo:
            conn.execute(
                sa.update(_invoices)
                .where(_invoices.c.company_id == company_id, _invoices.c.qbo_id == qbo_id)
                .values(memo=clean)
            )
    # Only a Checkout Session carries the return URLs.
    sessions = sa.select(_inbox.c.id, _inbox.c.payload).where(_inbox.c.event_type.like("checkout.session.%"))
    for item_id, payload in conn.execute(sessions).all():
        clean_body = links.scrub_bytes(bytes(payload))
        if clean_body != bytes(payload):
            conn.execute(sa.update(_inbox).where(_inbox.c.id == item_id).values(payload=clean_body))
    checkouts = conn.execute(
        sa.select(_effects.c.id, _effects.c.payload).where(_effects.c.kind == "stripe.checkout")
    ).all()
    for effect_id, payload in checkouts:
        if isinstance(payload, dict) and "token" in payload:
            kept = {k: v for k, v in payload.items() if k != "token"}
            conn.execute(sa.update(_effects).where(_effects.c.id == effect_id).values(payload=kept))


def downgrade() -> None:
    pass  # the tokens are gone for good; the handlers derive them again from secret_key
