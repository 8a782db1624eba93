"""Alembic environment: runs on the engine syncd hands over, never on a URL from a .ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from syncd.store.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Several replicas may start at once: one migrates, the others wait for it.
        connection.execute(text("SELECT pg_advisory_lock(7317001)"))
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(7317001)"))
            connection.commit()
