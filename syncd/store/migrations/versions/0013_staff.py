"""staff users and their role per company

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import at, qbo_id, string

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        string("email", 320),
        string("name", 200),
        string("phone", 20, nullable=True),
        string("password_hash", 200, nullable=True),
        sa.Column("totp_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        at("created_at"),
        at("disabled_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
    )
    op.create_index("ix_staff_users_email", "staff_users", ["email"], unique=True)
    op.create_table(
        "staff_memberships",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        qbo_id("company_id"),
        string("role", 16),
        at("created_at"),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_memberships_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.realm_id"], name=op.f("fk_staff_memberships_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("staff_id", "company_id", name=op.f("pk_staff_memberships")),
    )


def downgrade() -> None:
    op.drop_table("staff_memberships")
    op.drop_index("ix_staff_users_email", table_name="staff_users")
    op.drop_table("staff_users")
