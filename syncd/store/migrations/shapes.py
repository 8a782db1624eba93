"""The column and table shapes syncd's Alembic migrations repeat, as those migrations wrote them.

A migration is history: every helper here must keep producing exactly the DDL it produced when
the versions that call it were written. A new shape is a new helper, never an edit to one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from syncd.store.models import DecimalAmount, UtcDateTime


def at(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """An aware UTC timestamp."""
    return sa.Column(name, UtcDateTime(timezone=True), nullable=nullable)


def money(name: str) -> sa.Column[Any]:
    """A required amount in major units (up to three decimals, for KWD and friends)."""
    return sa.Column(name, DecimalAmount(precision=18, scale=3), nullable=False)


def qbo_id(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A QuickBooks id: a company's realm id or an entity id."""
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def currency(name: str = "currency", *, nullable: bool = False) -> sa.Column[Any]:
    """An ISO 4217 currency code."""
    return sa.Column(name, sa.String(length=3), nullable=nullable)


def string(name: str, length: int, *, nullable: bool = False) -> sa.Column[Any]:
    """A VARCHAR of ``length``."""
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def serial_id() -> sa.Column[Any]:
    """An ``id`` counter: BIGINT on PostgreSQL, INTEGER on SQLite (so it is the rowid)."""
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def create_table(
    name: str,
    *columns: sa.Column[Any],
    key: Sequence[str],
    unique: Sequence[str] = (),
    of_company: bool = False,
) -> None:
    """``op.create_table`` with the models' constraint names: ``fk_<table>_company_id_companies``
    when ``of_company``, ``pk_<table>`` over ``key``, ``uq_<table>_<first column>`` over ``unique``
    (in that order, the order the first migrations gave them)."""
    constraints: list[sa.Constraint] = []
    if of_company:
        fk_name = op.f(f"fk_{name}_company_id_companies")
        constraints.append(sa.ForeignKeyConstraint(["company_id"], ["companies.realm_id"], name=fk_name))
    constraints.append(sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")))
    if unique:
        constraints.append(sa.UniqueConstraint(*unique, name=op.f(f"uq_{name}_{unique[0]}")))
    op.create_table(name, *columns, *constraints)


def create_indexes(table: str, indexes: Mapping[str, Sequence[str]]) -> None:
    """Plain (non-unique) indexes on ``table``, by name."""
    for index, columns in indexes.items():
        op.create_index(index, table, list(columns), unique=False)


def add_columns(table: str, *columns: sa.Column[Any]) -> None:
    """Add ``columns`` to ``table`` in one batch (SQLite alters a table only that way)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.add_column(column)


def drop_columns(table: str, *names: str) -> None:
    """Drop the columns ``names`` from ``table`` in one batch, in that order."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name in names:
            batch_op.drop_column(name)


def drop_table(table: str, indexes: Sequence[str] = ()) -> None:
    """Drop ``table`` and, first, the named ``indexes`` on it."""
    for index in indexes:
        op.drop_index(index, table_name=table)
    op.drop_table(table)
