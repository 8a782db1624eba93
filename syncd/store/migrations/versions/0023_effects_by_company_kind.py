"""an index of effects by company, kind and creation time (the money-entry gatherer's counts)

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

from syncd.store.migrations.shapes import create_indexes

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

INDEX = "ix_effects_company_kind"


def upgrade() -> None:
    create_indexes("effects", {INDEX: ["company_id", "kind", "created_at"]})


def downgrade() -> None:
    op.drop_index(INDEX, table_name="effects")
