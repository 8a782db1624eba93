"""entry reviews: syncd Payments deleted, voided or changed in QBO

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import at, create_table, currency, money, qbo_id, string

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "entry_reviews",
        qbo_id("company_id"),
        qbo_id("qbo_payment_id"),
        string("payment_key", 128),
        string("payment_intent_id", 128, nullable=True),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        money("amount"),
        currency(),
        string("change", 16),
        sa.Column("detail", sa.Text(), nullable=False),
        string("status", 16),
        at("detected_at"),
        at("resolved_at", nullable=True),
        key=("company_id", "qbo_payment_id"),
    )


def downgrade() -> None:
    op.drop_table("entry_reviews")
