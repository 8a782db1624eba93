"""syncd's one store: SQLAlchemy models, migrations, and the repositories over them."""
