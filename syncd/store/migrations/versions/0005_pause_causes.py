"""pause causes on companies; connect attempts the daemon can finish

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa

from syncd.store.migrations.shapes import (
    add_columns,
    at,
    create_table,
    drop_columns,
    drop_table,
    qbo_id,
    string,
)

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns(
        "companies",
        string("pause_credential", 32, nullable=True),
        at("paused_at", nullable=True),
        string("pause_fingerprint", 64, nullable=True),
    )
    create_table(
        "connect_attempts",
        string("state_hash", 64),
        at("created_at"),
        at("expires_at"),
        qbo_id("realm_id", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        at("finished_at", nullable=True),
        key=("state_hash",),
    )


def downgrade() -> None:
    drop_table("connect_attempts")
    drop_columns("companies", "pause_fingerprint", "paused_at", "pause_credential")
