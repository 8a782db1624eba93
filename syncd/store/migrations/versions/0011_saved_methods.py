"""saved payment methods, consents to save them, card-on-file requests

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import syncd.store.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, syncd.store.models.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "saved_methods",
        sa.Column("payment_method_id", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("qbo_customer_id", sa.String(length=32), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("bank_name", sa.String(length=200), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        _at("attached_at"),
        _at("detached_at", nullable=True),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("payment_method_id", name=op.f("pk_saved_methods")),
    )
    op.create_index("ix_saved_methods_customer", "saved_methods", ["company_id", "qbo_customer_id"])
    op.create_table(
        "method_consents",
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("qbo_customer_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _at("consented_at"),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("payment_method_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_method_consents")),
    )
    op.create_index("ix_method_consents_customer", "method_consents", ["company_id", "qbo_customer_id"])
    op.create_table(
        "card_requests",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("qbo_customer_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _at("created_at"),
        _at("expires_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=128), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        _at("checkout_expires_at", nullable=True),
        _at("completed_at", nullable=True),
        sa.Column("payment_method_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_card_requests")),
        sa.UniqueConstraint("request_key", name=op.f("uq_card_requests_request_key")),
    )


def downgrade() -> None:
    op.drop_table("card_requests")
    op.drop_index("ix_method_consents_customer", table_name="method_consents")
    op.drop_table("method_consents")
    op.drop_index("ix_saved_methods_customer", table_name="saved_methods")
    op.drop_table("saved_methods")
