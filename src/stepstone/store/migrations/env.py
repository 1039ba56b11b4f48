"""Alembic environment: migrations run on the connection Stepstone hands over, or on the URL
of alembic.ini when a developer runs ``alembic`` by hand."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from stepstone.store.schema import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]  # a Connection, typed loosely above
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()
