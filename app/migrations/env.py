"""Alembic environment: runs migrations on the app's database.

`flask --app app db upgrade` passes the app's open connection in
`config.attributes["connection"]`. `alembic upgrade head` (with the top-level
alembic.ini) reads the URL from `sqlalchemy.url` or, when that is empty, from
DATABASE_URL, falling back to the SQLite file in the instance folder like the app does.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from flask import Flask
from sqlalchemy import Connection

from app.config import database_url_from_env
from app.db import create_db_engine
from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    """Run the migrations on `connection`, in batch mode on SQLite (it cannot ALTER much)."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )

    with context.begin_transaction():
        context.run_migrations()


def run_with_own_engine() -> None:
    """Open an engine on the configured database and run the migrations there."""
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)

    url = config.get_main_option("sqlalchemy.url") or database_url_from_env(
        os.environ, Flask("app").instance_path
    )
    engine = create_db_engine(url)

    try:
        with engine.begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them on a database.")

connection = config.attributes.get("connection")
if connection is None:
    run_with_own_engine()
else:
    run_migrations(connection)
