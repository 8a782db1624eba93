"""staff console: sessions, failed sign-ins, the action audit, temporary passwords

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import (
    add_columns,
    at,
    create_indexes,
    drop_columns,
    qbo_id,
    serial_id,
    string,
)

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Users created before this revision chose their password themselves.
    add_columns(
        "staff_users",
        sa.Column("password_temporary", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "staff_sessions",
        string("digest", 64),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("totp_pending", sa.Boolean(), nullable=False),
        at("created_at"),
        at("last_seen_at"),
        at("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_staff_sessions")),
    )
    create_indexes("staff_sessions", {"ix_staff_sessions_staff_id": ["staff_id"]})
    op.create_table(
        "staff_sign_in_attempts",
        serial_id(),
        string("email", 320),
        string("ip", 64),
        at("at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sign_in_attempts")),
    )
    create_indexes(
        "staff_sign_in_attempts",
        {"ix_staff_sign_in_attempts_email": ["email", "at"], "ix_staff_sign_in_attempts_ip": ["ip", "at"]},
    )
    op.create_table(
        "staff_actions",
        serial_id(),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        string("staff_email", 320),
        qbo_id("company_id", nullable=True),
        string("action", 64),
        string("target", 200),
        at("at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_actions")),
    )
    create_indexes("staff_actions", {"ix_staff_actions_company_at": ["company_id", "at"]})


def downgrade() -> None:
    op.drop_index("ix_staff_actions_company_at", table_name="staff_actions")
    op.drop_table("staff_actions")
    op.drop_index("ix_staff_sign_in_attempts_ip", table_name="staff_sign_in_attempts")
    op.drop_index("ix_staff_sign_in_attempts_email", table_name="staff_sign_in_attempts")
    op.drop_table("staff_sign_in_attempts")
    op.drop_index("ix_staff_sessions_staff_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    drop_columns("staff_users", "password_temporary")
