"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:46:42.509111
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

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "companies",
        qbo_id("realm_id"),
        string("name", 200),
        currency("home_currency", nullable=True),
        string("timezone", 64, nullable=True),
        string("status", 20),
        sa.Column("status_reason", sa.Text(), nullable=True),
        at("last_pull_at", nullable=True),
        at("created_at"),
        key=("realm_id",),
    )
    create_table(
        "credit_holds",
        qbo_id("company_id"),
        qbo_id("customer_id"),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        at("placed_at"),
        sa.Column("strikes_at_placement", sa.Integer(), nullable=False),
        at("released_at", nullable=True),
        sa.Column("strikes_at_release", sa.Integer(), nullable=True),
        key=("company_id", "customer_id", "seq"),
    )
    create_table(
        "cursors",
        qbo_id("company_id"),
        string("name", 64),
        sa.Column("value", sa.Text(), nullable=False),
        at("updated_at"),
        key=("company_id", "name"),
    )
    create_table(
        "effects",
        serial_id(),
        string("key", 200),
        string("kind", 64),
        sa.Column("priority", sa.Integer(), nullable=False),
        qbo_id("company_id"),
        sa.Column("payload", sa.JSON(), nullable=False),
        string("status", 16),
        sa.Column("attempts", sa.Integer(), nullable=False),
        at("next_attempt_at"),
        string("lease_owner", 128, nullable=True),
        at("lease_expires_at", nullable=True),
        string("remote_id", 128, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        at("created_at"),
        at("done_at", nullable=True),
        key=("id",),
        unique=("key",),
    )
    create_indexes("effects", {"ix_effects_due": ["status", "priority", "next_attempt_at"]})
    create_table(
        "inbox",
        serial_id(),
        string("source", 16),
        string("event_id", 128),
        qbo_id("company_id", nullable=True),
        string("event_type", 64),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        at("received_at"),
        at("processed_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        key=("id",),
        unique=("source", "event_id"),
    )
    create_indexes("inbox", {"ix_inbox_pending": ["processed_at", "id"]})
    create_table(
        "leases",
        string("name", 128),
        string("owner", 128),
        at("expires_at"),
        key=("name",),
    )
    create_table(
        "money_movements",
        string("id", 128),
        qbo_id("company_id"),
        string("type", 32),
        string("source_id", 128, nullable=True),
        money("amount"),
        money("fee"),
        money("net"),
        currency(),
        at("created"),
        string("payout_id", 128, nullable=True),
        sa.Column("qbo_entries", sa.JSON(), nullable=False),
        key=("id",),
    )
    create_table(
        "payments",
        string("key", 128),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        money("amount"),
        currency(),
        string("status", 16),
        string("checkout_session_id", 128, nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        string("payment_intent_id", 128, nullable=True),
        string("method", 32, nullable=True),
        sa.Column("offered_methods", sa.JSON(), nullable=True),
        qbo_id("qbo_payment_id", nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        at("created_at"),
        at("updated_at"),
        key=("key",),
    )
    create_indexes(
        "payments",
        {
            "ix_payments_company_status": ["company_id", "status"],
            "ix_payments_intent": ["payment_intent_id"],
            "ix_payments_session": ["checkout_session_id"],
        },
    )
    create_table(
        "portal_links",
        string("digest", 64),
        qbo_id("company_id"),
        qbo_id("invoice_id"),
        at("created_at"),
        at("revoked_at", nullable=True),
        at("notified_at", nullable=True),
        key=("digest",),
        unique=("company_id", "invoice_id"),
    )
    create_table(
        "secrets",
        qbo_id("company_id"),
        string("name", 64),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        at("updated_at"),
        key=("company_id", "name"),
    )
    create_table(
        "customers",
        qbo_id("company_id"),
        qbo_id("qbo_id"),
        string("display_name", 500),
        string("email", 320, nullable=True),
        string("phone", 64, nullable=True),
        currency(),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        string("stripe_customer_id", 64, nullable=True),
        at("updated_at"),
        key=("company_id", "qbo_id"),
        of_company=True,
    )
    create_table(
        "invoices",
        qbo_id("company_id"),
        qbo_id("qbo_id"),
        string("doc_number", 64),
        qbo_id("customer_id"),
        string("customer_name", 500),
        currency(),
        sa.Column("txn_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        money("total"),
        money("balance"),
        money("tax"),
        sa.Column("lines", sa.JSON(), nullable=False),
        string("status", 16),
        string("sync_token", 32),
        string("email", 320, nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        at("qbo_updated_at"),
        at("mirrored_at"),
        key=("company_id", "qbo_id"),
        of_company=True,
    )
    create_indexes("invoices", {"ix_invoices_company_status": ["company_id", "status"]})


def downgrade() -> None:
    drop_table("invoices", ["ix_invoices_company_status"])
    drop_table("customers")
    drop_table("secrets")
    drop_table("portal_links")
    drop_table("payments", ["ix_payments_session", "ix_payments_intent", "ix_payments_company_status"])
    drop_table("money_movements")
    drop_table("leases")
    drop_table("inbox", ["ix_inbox_pending"])
    drop_table("effects", ["ix_effects_due"])
    drop_table("cursors")
    drop_table("credit_holds")
    drop_table("companies")
