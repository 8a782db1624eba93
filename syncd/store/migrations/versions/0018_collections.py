"""collections: collector accounts, activities, promises, offline payments, disputes, write-offs

Revision ID: 0018
Revises: 0017
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

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "collection_accounts",
        qbo_id("company_id"),
        qbo_id("customer_id"),
        at("escalated_at", nullable=True),
        string("collector", 320, nullable=True),
        at("assigned_at", nullable=True),
        string("assigned_by", 320, nullable=True),
        string("hold_reason", 200, nullable=True),
        key=("company_id", "customer_id"),
        of_company=True,
    )
    create_indexes("collection_accounts", {"ix_collection_accounts_collector": ("company_id", "collector")})
    create_table(
        "collection_activities",
        serial_id(),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        qbo_id("invoice_id", nullable=True),
        string("kind", 16),
        string("outcome", 16, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        string("by", 320),
        at("at"),
        key=("id",),
        of_company=True,
    )
    create_indexes(
        "collection_activities",
        {"ix_collection_activities_customer": ("company_id", "customer_id", "id")},
    )
    create_table(
        "payment_promises",
        serial_id(),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        sa.Column("promised_on", sa.Date(), nullable=False),
        money("amount"),
        money("owed_at_promise"),
        string("status", 16),
        string("recorded_by", 320),
        at("recorded_at"),
        at("resolved_at", nullable=True),
        key=("id",),
        of_company=True,
    )
    create_indexes(
        "payment_promises", {"ix_payment_promises_status": ("company_id", "status", "promised_on")}
    )
    create_table(
        "offline_payments",
        serial_id(),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        qbo_id("invoice_id"),
        string("request_id", 64),
        string("method", 16),
        money("amount"),
        currency(),
        string("reference", 100),
        string("recorded_by", 320),
        at("recorded_at"),
        qbo_id("qbo_payment_id", nullable=True),
        key=("id",),
        unique=("company_id", "request_id"),
        of_company=True,
    )
    create_table(
        "disputed_invoices",
        qbo_id("company_id"),
        qbo_id("invoice_id"),
        string("opened_by", 320),
        at("opened_at"),
        at("closed_at", nullable=True),
        key=("company_id", "invoice_id"),
        of_company=True,
    )
    create_table(
        "write_offs",
        serial_id(),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        money("amount"),
        currency(),
        string("status", 16),
        at("proposed_at"),
        string("decided_by", 320, nullable=True),
        at("decided_at", nullable=True),
        qbo_id("qbo_id", nullable=True),
        key=("id",),
        of_company=True,
    )
    create_indexes("write_offs", {"ix_write_offs_status": ("company_id", "status")})


def downgrade() -> None:
    drop_table("write_offs", ["ix_write_offs_status"])
    drop_table("disputed_invoices")
    drop_table("offline_payments")
    drop_table("payment_promises", ["ix_payment_promises_status"])
    drop_table("collection_activities", ["ix_collection_activities_customer"])
    drop_table("collection_accounts", ["ix_collection_accounts_collector"])
