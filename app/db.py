"""The SQLAlchemy engine, the per-request session, and the Alembic migration commands."""

from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Seconds to wait for a Postgres connection (pg8000 also applies it to each socket read)
# and for a free connection from the pool. Both stay well below API Gateway's 29 s, so a
# request to an unreachable database returns 503 before the gateway times out.
CONNECT_TIMEOUT = 10
POOL_TIMEOUT = 10


@dataclass(frozen=True)
class Database:
    """One app's engine and its thread-local session registry."""

    engine: Engine
    sessions: scoped_session[Session]


def safe_url(engine_or_url: Engine | str) -> str:
    """Return the database URL with its password masked, for logs and messages."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.render_as_string(hide_password=True)


def create_db_engine(database_url: str) -> Engine:
    """Create an engine that checks pooled connections before use.

    pool_pre_ping replaces connections that died while idle (a database restart, a
    failover), so the service recovers by itself once the database is back.
    """
    url = make_url(database_url)

    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)

    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        connect_args = {"timeout": CONNECT_TIMEOUT} if url.get_driver_name() == "pg8000" else {}
        engine = create_engine(
            url, pool_pre_ping=True, pool_timeout=POOL_TIMEOUT, connect_args=connect_args
        )

    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)

    return engine


def _enable_sqlite_foreign_keys(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    # SQLite ignores FOREIGN KEY clauses unless this pragma is on for each connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app: Flask) -> None:
    """Create the app's engine and session registry, and remove the session after each request."""
    engine = create_db_engine(app.config["DATABASE_URL"])
    sessions = scoped_session(sessionmaker(bind=engine, expire_on_commit=False))
    app.extensions["db"] = Database(engine=engine, sessions=sessions)

    app.teardown_appcontext(_remove_session)
    app.cli.add_command(db_cli)
    atexit.register(_dispose, engine)

    logger.info("Database engine created for %s", safe_url(engine))


def _remove_session(exception: BaseException | None) -> None:
    current_app.extensions["db"].sessions.remove()


def _dispose(engine: Engine) -> None:
    engine.dispose()
    logger.info("Database connections closed for %s", safe_url(engine))


def get_session() -> Session:
    """Return the current request's session."""
    return current_app.extensions["db"].sessions()


def get_engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions["db"].engine


def alembic_config() -> Config:
    """Return an Alembic config for the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` on `engine`'s database."""
    config = alembic_config()

    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    logger.info("Database %s migrated to %s", safe_url(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert the Alembic migrations down to `revision` on `engine`'s database."""
    config = alembic_config()

    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    logger.info("Database %s migrated down to %s", safe_url(engine), revision)


db_cli = AppGroup("db", help="Manage the database schema with Alembic.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade(get_engine(), revision)
    click.echo(f"Database {safe_url(get_engine())} is at revision {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Revert migrations down to REVISION (for example: base)."""
    downgrade(get_engine(), revision)
    click.echo(f"Database {safe_url(get_engine())} is at revision {revision}.")
