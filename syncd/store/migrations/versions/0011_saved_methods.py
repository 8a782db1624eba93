"""saved payment methods, consents to save them, card-on-file requests

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa

from syncd.store.migrations.shapes import at, create_indexes, create_table, drop_table, qbo_id, string

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "saved_methods",
        string("payment_method_id", 64),
        qbo_id("company_id"),
        qbo_id("qbo_customer_id"),
        string("stripe_customer_id", 64),
        string("kind", 32),
        string("brand", 32, nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        string("bank_name", 200, nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        at("attached_at"),
        at("detached_at", nullable=True),
        at("updated_at"),
        key=("payment_method_id",),
    )
    create_indexes("saved_methods", {"ix_saved_methods_customer": ["company_id", "qbo_customer_id"]})
    create_table(
        "method_consents",
        string("reference", 200),
        qbo_id("company_id"),
        qbo_id("qbo_customer_id"),
        sa.Column("text", sa.Text(), nullable=False),
        at("consented_at"),
        string("ip", 64, nullable=True),
        string("user_agent", 512, nullable=True),
        string("payment_method_id", 64, nullable=True),
        key=("reference",),
    )
    create_indexes("method_consents", {"ix_method_consents_customer": ["company_id", "qbo_customer_id"]})
    create_table(
        "card_requests",
        string("digest", 64),
        string("request_key", 200),
        qbo_id("company_id"),
        qbo_id("qbo_customer_id"),
        sa.Column("reason", sa.Text(), nullable=True),
        at("created_at"),
        at("expires_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        string("checkout_session_id", 128, nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        at("checkout_expires_at", nullable=True),
        at("completed_at", nullable=True),
        string("payment_method_id", 64, nullable=True),
        key=("digest",),
        unique=("request_key",),
    )


def downgrade() -> None:
    drop_table("card_requests")
    drop_table("method_consents", ["ix_method_consents_customer"])
    drop_table("saved_methods", ["ix_saved_methods_customer"])
