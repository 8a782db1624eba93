"""texting: customers' numbers with their consent, the texts sent, and QBO's Mobile field

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa

from syncd.store.migrations.shapes import (
    add_columns,
    at,
    create_indexes,
    create_table,
    drop_columns,
    drop_table,
    qbo_id,
    string,
)

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("customers", string("mobile", 64, nullable=True))
    create_table(
        "sms_numbers",
        qbo_id("company_id"),
        qbo_id("customer_id"),
        string("number", 20),
        string("source", 16),
        string("consent_text", 500),
        at("consented_at"),
        string("ip", 64, nullable=True),
        string("user_agent", 500, nullable=True),
        at("opted_out_at", nullable=True),
        at("updated_at"),
        key=("company_id", "customer_id"),
        of_company=True,
    )
    create_indexes("sms_numbers", {"ix_sms_numbers_number": ("company_id", "number")})
    create_table(
        "sms_messages",
        string("key", 200),
        qbo_id("company_id"),
        qbo_id("customer_id"),
        string("number", 20),
        string("sid", 64, nullable=True),
        string("status", 16),
        sa.Column("error_code", sa.Integer(), nullable=True),
        at("created_at"),
        at("updated_at"),
        key=("key",),
        of_company=True,
    )
    create_indexes("sms_messages", {"ix_sms_messages_sid": ("sid",)})


def downgrade() -> None:
    drop_table("sms_messages", ["ix_sms_messages_sid"])
    drop_table("sms_numbers", ["ix_sms_numbers_number"])
    drop_columns("customers", "mobile")
