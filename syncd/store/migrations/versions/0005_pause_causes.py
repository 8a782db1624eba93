"""pause causes on companies; connect attempts the daemon can finish

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import at, create_table, qbo_id, string

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(string("pause_credential", 32, nullable=True))
        batch_op.add_column(at("paused_at", nullable=True))
        batch_op.add_column(string("pause_fingerprint", 64, nullable=True))
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
    op.drop_table("connect_attempts")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("pause_fingerprint")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("pause_credential")
