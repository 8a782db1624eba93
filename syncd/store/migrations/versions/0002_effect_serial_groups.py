"""effect serial groups and held must-book effects

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import at, string

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("effects", schema=None) as batch_op:
        batch_op.add_column(string("serial_group", 200, nullable=True))
        batch_op.add_column(at("held_at", nullable=True))
        batch_op.create_index("ix_effects_serial", ["serial_group", "status"], unique=False)
    _group_pending_payments()


def _group_pending_payments() -> None:
    """QBO Payments still queued at the upgrade (a backlog, say) take their customer's group too."""
    bind = op.get_bind()
    effects = sa.table(
        "effects",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("status", sa.String()),
        sa.column("company_id", sa.String()),
        sa.column("payload", sa.JSON()),
        sa.column("serial_group", sa.String()),
    )
    payments = sa.table("payments", sa.column("key", sa.String()), sa.column("customer_id", sa.String()))
    pending = bind.execute(
        sa.select(effects.c.id, effects.c.company_id, effects.c.payload).where(
            effects.c.kind == "qbo.payment", effects.c.status == "pending"
        )
    ).all()
    for effect_id, realm, payload in pending:
        key = str((payload or {}).get("payment_key"))
        customer = bind.execute(sa.select(payments.c.customer_id).where(payments.c.key == key)).scalar()
        if customer is not None:
            group = f"money:{realm}:{customer}"
            bind.execute(effects.update().where(effects.c.id == effect_id).values(serial_group=group))


def downgrade() -> None:
    with op.batch_alter_table("effects", schema=None) as batch_op:
        batch_op.drop_index("ix_effects_serial")
        batch_op.drop_column("held_at")
        batch_op.drop_column("serial_group")
