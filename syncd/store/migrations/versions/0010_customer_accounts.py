"""customer accounts: account_tokens, account_sessions, passkeys

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import syncd.store.models

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, syncd.store.models.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("ip_digest", sa.String(64), nullable=True),
        sa.Column("browser", sa.String(64), nullable=True),
        sa.Column("known", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_account_tokens")),
    )
    op.create_index("ix_account_tokens_email", "account_tokens", ["kind", "email", "created_at"])
    op.create_index("ix_account_tokens_ip", "account_tokens", ["kind", "ip_digest", "created_at"])
    op.create_table(
        "account_sessions",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("scope_company_id", sa.String(32), nullable=True),
        sa.Column("scope_customer_id", sa.String(32), nullable=True),
        sa.Column("company_id", sa.String(32), nullable=True),
        sa.Column("customer_id", sa.String(32), nullable=True),
        _when("created_at"),
        _when("last_seen_at"),
        _when("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_account_sessions")),
    )
    op.create_index("ix_account_sessions_email", "account_sessions", ["email"])
    op.create_table(
        "passkeys",
        sa.Column("credential_id", sa.String(400), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_passkeys")),
    )
    op.create_index("ix_passkeys_email", "passkeys", ["email"])


def downgrade() -> None:
    op.drop_table("passkeys")
    op.drop_table("account_sessions")
    op.drop_table("account_tokens")
