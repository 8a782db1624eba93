"""effect serial groups and held must-book effects

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import syncd.store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("effects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serial_group", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("held_at", syncd.store.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_effects_serial", ["serial_group", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("effects", schema=None) as batch_op:
        batch_op.drop_index("ix_effects_serial")
        batch_op.drop_column("held_at")
        batch_op.drop_column("serial_group")
