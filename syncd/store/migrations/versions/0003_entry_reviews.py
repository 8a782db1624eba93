"""entry reviews: syncd Payments deleted, voided or changed in QBO

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import syncd.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entry_reviews",
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("qbo_payment_id", sa.String(length=32), nullable=False),
        sa.Column("payment_key", sa.String(length=128), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=128), nullable=True),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("amount", syncd.store.models.DecimalAmount(precision=18, scale=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_at", syncd.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", syncd.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("company_id", "qbo_payment_id", name=op.f("pk_entry_reviews")),
    )


def downgrade() -> None:
    op.drop_table("entry_reviews")
