"""``alembic upgrade head`` on an empty database builds exactly the schema ``syncd/store/models.py``
declares, on SQLite and PostgreSQL: tables, columns, types, nullability, indexes, unique and
foreign keys."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Index, MetaData, String, UniqueConstraint

from syncd.store.engine import Database
from syncd.store.models import Base


def schema_diff(db: Database, metadata: MetaData) -> list[Any]:
    """What Alembic's autogenerate would write to turn ``db`` into ``metadata`` (empty: the same)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrations_build_the_models_schema(db: Database) -> None:
    assert schema_diff(db, Base.metadata) == []


def test_the_comparison_sees_a_drifted_model(db: Database) -> None:
    """The empty diff above means something: a column, a nullability, a type, an index, a unique
    index and a unique constraint that the migrations do not have are each reported."""
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    effects = drifted.tables["effects"]
    effects.append_column(Column("drifted", String(10), nullable=True))
    effects.c.last_error.nullable = not effects.c.last_error.nullable
    effects.c.kind.type = String(99)
    Index("ix_effects_drifted", effects.c.kind)
    UniqueConstraint(effects.c.kind, effects.c.company_id, name="uq_effects_drifted")
    next(iter(i for i in drifted.tables["payments"].indexes if i.name == "ix_payments_intent")).unique = True

    kinds = {_kind(change) for change in schema_diff(db, drifted)}

    expected = {"add_column", "modify_nullable", "modify_type", "add_index", "remove_index", "add_constraint"}
    assert expected <= kinds


def _kind(change: Any) -> str:
    # Column modifications come as a list of tuples, everything else as one tuple.
    first = change[0] if isinstance(change, list) else change
    return str(first[0])
