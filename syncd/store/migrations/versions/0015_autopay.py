"""autopay enrollments, charge attempts and notice links

Revision ID: 0015
Revises: 0014
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

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "autopay_enrollments",
        qbo_id("company_id"),
        qbo_id("customer_id"),
        string("payment_method_id", 64),
        sa.Column("cap", DecimalAmount(precision=18, scale=3), nullable=True),
        string("consent_reference", 200),
        at("enrolled_at"),
        at("stopped_at", nullable=True),
        string("stop_reason", 64, nullable=True),
        at("updated_at"),
        key=("company_id", "customer_id"),
    )
    create_table(
        "autopay_charges",
        string("key", 128),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        qbo_id("invoice_id"),
        money("balance"),
        currency(),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("charge_on", sa.Date(), nullable=False),
        string("status", 16),
        string("payment_method_id", 64),
        sa.Column("amount", DecimalAmount(precision=18, scale=3), nullable=True),
        string("payment_intent_id", 128, nullable=True),
        string("decline_code", 64, nullable=True),
        at("created_at"),
        at("updated_at"),
        key=("key",),
        unique=("company_id", "invoice_id", "balance", "attempt"),
    )
    create_indexes("autopay_charges", {"ix_autopay_charges_status": ["company_id", "status"]})
    create_table(
        "autopay_links",
        string("digest", 64),
        string("purpose", 8),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        string("charge_key", 128),
        at("created_at"),
        at("expires_at"),
        at("used_at", nullable=True),
        key=("digest",),
    )


def downgrade() -> None:
    drop_table("autopay_links")
    drop_table("autopay_charges", ["ix_autopay_charges_status"])
    drop_table("autopay_enrollments")
