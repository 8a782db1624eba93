"""staff passkeys and their challenges; the last TOTP step accepted per staff member

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import add_columns, at, create_indexes, drop_columns, drop_table, string

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("staff_users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "staff_passkeys",
        string("credential_id", 400),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        string("name", 100),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        at("created_at"),
        at("last_used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_passkeys_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_staff_passkeys")),
    )
    create_indexes("staff_passkeys", {"ix_staff_passkeys_staff_id": ["staff_id"]})
    op.create_table(
        "staff_passkey_challenges",
        string("digest", 64),
        string("purpose", 16),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        at("expires_at"),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_staff_passkey_challenges")),
    )


def downgrade() -> None:
    drop_table("staff_passkey_challenges")
    drop_table("staff_passkeys", ["ix_staff_passkeys_staff_id"])
    drop_columns("staff_users", "totp_last_step")
