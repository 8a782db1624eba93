"""customer accounts: account_tokens, account_sessions, passkeys

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import at, create_indexes, create_table, qbo_id

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "account_tokens",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("ip_digest", sa.String(64), nullable=True),
        sa.Column("browser", sa.String(64), nullable=True),
        sa.Column("known", sa.Boolean(), nullable=False),
        at("created_at"),
        at("expires_at"),
        at("used_at", nullable=True),
        key=("digest",),
    )
    create_indexes(
        "account_tokens",
        {
            "ix_account_tokens_email": ["kind", "email", "created_at"],
            "ix_account_tokens_ip": ["kind", "ip_digest", "created_at"],
        },
    )
    create_table(
        "account_sessions",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        qbo_id("scope_company_id", nullable=True),
        qbo_id("scope_customer_id", nullable=True),
        qbo_id("company_id", nullable=True),
        qbo_id("customer_id", nullable=True),
        at("created_at"),
        at("last_seen_at"),
        at("revoked_at", nullable=True),
        key=("digest",),
    )
    create_indexes("account_sessions", {"ix_account_sessions_email": ["email"]})
    create_table(
        "passkeys",
        sa.Column("credential_id", sa.String(400), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        at("created_at"),
        at("last_used_at", nullable=True),
        key=("credential_id",),
    )
    create_indexes("passkeys", {"ix_passkeys_email": ["email"]})


def downgrade() -> None:
    op.drop_table("passkeys")
    op.drop_table("account_sessions")
    op.drop_table("account_tokens")
