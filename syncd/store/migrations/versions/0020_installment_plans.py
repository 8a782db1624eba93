"""installment plans and their installments

Revision ID: 0020
Revises: 0018
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
    serial_id,
    string,
)
from syncd.store.models import DecimalAmount

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "installment_plans",
        serial_id(),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        qbo_id("invoice_id"),
        currency(),
        money("total"),
        money("balance"),
        money("down"),
        sa.Column("count", sa.Integer(), nullable=False),
        string("every", 8),
        sa.Column("start_on", sa.Date(), nullable=False),
        string("status", 16),
        string("status_reason", 200, nullable=True),
        at("created_at"),
        at("updated_at"),
        key=("id",),
    )
    create_indexes("installment_plans", {"ix_installment_plans_invoice": ("company_id", "invoice_id")})
    create_table(
        "plan_installments",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        qbo_id("invoice_id"),
        money("amount"),
        currency(),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("charge_on", sa.Date(), nullable=False),
        string("status", 16),
        sa.Column("attempt", sa.Integer(), nullable=False),
        string("payment_method_id", 64, nullable=True),
        sa.Column("charged", DecimalAmount(precision=18, scale=3), nullable=True),
        string("payment_intent_id", 128, nullable=True),
        string("decline_code", 64, nullable=True),
        at("noticed_at", nullable=True),
        at("missed_at", nullable=True),
        at("paid_at", nullable=True),
        at("updated_at"),
        key=("plan_id", "seq"),
    )
    create_indexes("plan_installments", {"ix_plan_installments_status": ("company_id", "status")})


def downgrade() -> None:
    drop_table("plan_installments", ["ix_plan_installments_status"])
    drop_table("installment_plans", ["ix_installment_plans_invoice"])
