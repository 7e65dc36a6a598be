"""Alembic environment: every models module is imported through participation.models."""

from __future__ import annotations

from alembic import context

from participation import models
from participation.db import make_engine

models.import_all_models()
config = context.config
target_metadata = models.Base.metadata


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from participation import create_app

    return str(create_app().config["DATABASE_URL"])


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(database_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
    # dropping a table that other rows refer to fails (or would delete them). Off for the
    # migration (a pragma only takes effect outside a transaction), checked, then on again.
    sqlite = getattr(getattr(connection, "dialect", None), "name", "") == "sqlite"
    if sqlite:
        raw = connection.connection.dbapi_connection  # type: ignore[attr-defined]
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure_and_run(connection)
    finally:
        if sqlite:
            problems = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if problems:
                raise RuntimeError(f"foreign keys broken by the migration: {problems[:5]}")


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
