"""The SQLAlchemy engine, the per-request session, the Alembic migrations and the schema check."""

from __future__ import annotations

import atexit
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, scoped_session, sessionmaker

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Seconds to wait for a Postgres connection (pg8000 also applies it to each socket read)
# and for a free connection from the pool. Both stay well below API Gateway's 29 s, so a
# request to an unreachable database returns 503 before the gateway times out.
CONNECT_TIMEOUT = 10
POOL_TIMEOUT = 10

# SQLSTATE codes of Postgres errors that mean the schema lacks a table or a column:
# undefined_table and undefined_column.
MISSING_SCHEMA_SQLSTATES = frozenset({"42P01", "42703"})

# sqlite3 reports a missing table or column only in its message text, as
# "no such table: t", "no such column: c" or "table t has no column named c".
SQLITE_MISSING_SCHEMA_MESSAGES = ("no such table", "no such column", "has no column named")

# The command that migrates the database, for logs and problem details.
MIGRATE_COMMAND = "flask --app app db upgrade"

# The event that migrates the database when the AWS Lambda function is invoked with it
# (handler.py runs it inside the function, which can reach a database in a VPC).
LAMBDA_MIGRATE_EVENT = '{"command": "migrate"}'


@dataclass
class Database:
    """One app's engine, its thread-local session registry, and whether its schema is current.

    `migrated` turns true once the database was found at the migrations' head, so the
    revision is read once per process, not once per request. A missing table found
    later turns it false again.
    """

    engine: Engine
    sessions: scoped_session[Session]
    migrated: bool = False


@dataclass(frozen=True)
class SchemaRevision:
    """The Alembic revisions stored in a database and the heads of the shipped migrations."""

    current: tuple[str, ...]
    expected: tuple[str, ...]

    @property
    def is_current(self) -> bool:
        """Whether the database is at the head of the shipped migrations."""
        return set(self.current) == set(self.expected)

    def describe(self) -> str:
        """Return the revisions as words for a log line."""
        current = ", ".join(self.current) or "none (no alembic_version table or row)"
        return f"revision {current}, while the app's migrations end at {', '.join(self.expected)}"


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


def read_schema_revision(engine: Engine) -> SchemaRevision:
    """Read the database's Alembic revision and the heads of the shipped migrations."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()

    expected = ScriptDirectory.from_config(alembic_config()).get_heads()
    return SchemaRevision(current=tuple(sorted(current)), expected=tuple(sorted(expected)))


def check_schema_at_start(app: Flask) -> None:
    """Log whether the app's database is migrated, without failing when it is unreachable.

    While the schema is not known to be current, each request checks again
    (`is_schema_current`).
    """
    database: Database = app.extensions["db"]

    try:
        revision = read_schema_revision(database.engine)
    except (DBAPIError, PoolTimeoutError) as error:
        logger.warning(
            "Database %s cannot be reached at start-up, so its schema is checked at the "
            "first request: %s",
            safe_url(database.engine),
            error,
        )
        return

    if revision.is_current:
        database.migrated = True
        logger.info("Database %s is at %s", safe_url(database.engine), revision.describe())
        return

    # `flask db upgrade` creates the app before it migrates, so a warning to run that
    # very command would only confuse; it is logged at DEBUG there.
    level = logging.DEBUG if is_loaded_for_app_command() else logging.WARNING
    logger.log(
        level,
        "Database %s is at %s. Run `%s` (or `make migrate`; on AWS Lambda, invoke the "
        "function with %s); until then every request to /tiktok_users answers 503 "
        "database-not-migrated.",
        safe_url(database.engine),
        revision.describe(),
        MIGRATE_COMMAND,
        LAMBDA_MIGRATE_EVENT,
    )


def is_loaded_for_app_command() -> bool:
    """Return whether the `flask` command is creating the app to run one of its commands.

    The `flask` group loads the app to find a command that the app adds, such as
    `flask db upgrade`, or to list them for `--help`. Its own commands (`flask run`,
    `flask shell`, `flask routes`) load the app in their own click context, and servers
    such as gunicorn or AWS Lambda have no click context at all.
    """
    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.command, FlaskGroup)


def is_schema_current() -> bool:
    """Return whether the current app's database is migrated, reading its revision until it is.

    Raises the database's error when it cannot be reached.
    """
    database: Database = current_app.extensions["db"]
    if database.migrated:
        return True

    revision = read_schema_revision(database.engine)
    if revision.is_current:
        database.migrated = True
        logger.info("Database %s is at %s", safe_url(database.engine), revision.describe())

    return revision.is_current


def forget_schema_check() -> None:
    """Read the revision again at the next request, after a table turned out to be missing."""
    current_app.extensions["db"].migrated = False


def sqlstate(error: DBAPIError) -> str | None:
    """Return the Postgres SQLSTATE code of a database error, or None for other drivers."""
    # pg8000 passes the server's error fields as a dict, with the SQLSTATE under "C".
    args = getattr(error.orig, "args", ())
    if args and isinstance(args[0], dict):
        return args[0].get("C")
    return None


def is_missing_schema_error(error: BaseException) -> bool:
    """Return whether a database error means a table or column is missing (not migrated)."""
    if not isinstance(error, DBAPIError):
        return False

    if sqlstate(error) in MISSING_SCHEMA_SQLSTATES:
        return True

    return isinstance(error.orig, sqlite3.OperationalError) and any(
        message in str(error.orig) for message in SQLITE_MISSING_SCHEMA_MESSAGES
    )


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
