"""first sync: companies.first_sync_at, portal_links.reminded_step

Revision ID: 0008
Revises: 0001
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from syncd.store.migrations.shapes import at
from syncd.store.models import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("companies", at("first_sync_at", nullable=True))
    op.add_column("portal_links", sa.Column("reminded_step", sa.Integer(), nullable=True))
    bind = op.get_bind()
    # A company that already emailed links, or was pulled and has no link waiting for its email,
    # is past its first sync: its open invoices are not backlog.
    bind.execute(
        sa.text(
            "UPDATE companies SET first_sync_at = :now WHERE realm_id IN "
            "(SELECT company_id FROM portal_links WHERE notified_at IS NOT NULL) "
            "OR (last_pull_at IS NOT NULL AND realm_id NOT IN "
            "(SELECT company_id FROM portal_links WHERE notified_at IS NULL))"
        ).bindparams(sa.bindparam("now", type_=UtcDateTime())),
        {"now": datetime.now(UTC)},
    )
    # Reminders sent under the old per-invoice keys (email:reminder:<realm>:<invoice>:<step>).
    latest: dict[tuple[str, str], int] = {}
    for (key,) in bind.execute(sa.text("SELECT key FROM effects WHERE key LIKE 'email:reminder:%'")):
        parts = str(key).split(":")
        if len(parts) == 5 and parts[4].isdigit():
            ident = (parts[2], parts[3])
            latest[ident] = max(latest.get(ident, 0), int(parts[4]))
    for (realm, invoice), step in latest.items():
        bind.execute(
            sa.text(
                "UPDATE portal_links SET reminded_step = :step "
                "WHERE company_id = :realm AND invoice_id = :invoice"
            ),
            {"step": step, "realm": realm, "invoice": invoice},
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_links") as batch:
        batch.drop_column("reminded_step")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("first_sync_at")
