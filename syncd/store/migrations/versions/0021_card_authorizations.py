"""card authorisations placed before a job

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa

from syncd.store.migrations.shapes import (
    at,
    create_indexes,
    create_table,
    currency,
    drop_table,
    money,
    qbo_id,
    string,
)
from syncd.store.models import DecimalAmount

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "card_authorizations",
        string("id", 64),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        money("amount"),
        currency(),
        sa.Column("note", sa.Text(), nullable=True),
        string("status", 16),
        string("payment_method_id", 64),
        string("stripe_customer_id", 64),
        string("payment_intent_id", 128, nullable=True),
        sa.Column("known_invoice_ids", sa.JSON(), nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        at("release_at"),
        at("expires_at", nullable=True),
        qbo_id("invoice_id", nullable=True),
        string("payment_key", 128, nullable=True),
        sa.Column("captured_amount", DecimalAmount(precision=18, scale=3), nullable=True),
        string("decline_code", 64, nullable=True),
        string("release_reason", 64, nullable=True),
        at("placed_at"),
        at("captured_at", nullable=True),
        at("released_at", nullable=True),
        at("updated_at"),
        key=("id",),
    )
    create_indexes("card_authorizations", {"ix_card_authorizations_status": ["company_id", "status"]})


def downgrade() -> None:
    drop_table("card_authorizations", ["ix_card_authorizations_status"])
