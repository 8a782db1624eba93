"""recurring invoice templates mirrored from QBO, and trial reminder links

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import at, create_indexes, create_table, currency, money, qbo_id, string

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "recurring_templates",
        qbo_id("company_id"),
        qbo_id("qbo_id"),
        qbo_id("customer_id"),
        string("name", 200),
        money("amount"),
        currency(),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        string("interval", 8),
        sa.Column("every", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("next_date", sa.Date(), nullable=True),
        sa.Column("previous_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("max_occurrences", sa.Integer(), nullable=True),
        sa.Column("day_of_month", sa.Integer(), nullable=True),
        string("kind", 16),
        string("sync_token", 32),
        string("action", 16, nullable=True),
        at("action_at", nullable=True),
        at("pulled_at"),
        at("gone_at", nullable=True),
        key=("company_id", "qbo_id"),
        of_company=True,
    )
    create_indexes("recurring_templates", {"ix_recurring_templates_customer": ("company_id", "customer_id")})
    op.create_table(
        "recurring_links",
        string("digest", 64),
        qbo_id("company_id"),
        qbo_id("template_id"),
        sa.Column("first_date", sa.Date(), nullable=False),
        at("created_at"),
        at("expires_at"),
        string("choice", 16, nullable=True),
        at("chosen_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.realm_id"], name=op.f("fk_recurring_links_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_recurring_links")),
    )


def downgrade() -> None:
    op.drop_table("recurring_links")
    op.drop_index("ix_recurring_templates_customer", table_name="recurring_templates")
    op.drop_table("recurring_templates")
