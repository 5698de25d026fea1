"""Fixtures: the app on SQLite and on Postgres, and one TikTok client per test session.

The TikTok client is the real one (TikTokApi driving Chromium) replaying the cassettes in
tests/cassettes; it is shared so that Chromium launches once per session. Postgres tests
use TEST_DATABASE_URL and are skipped when it cannot be reached, unless
REQUIRE_POSTGRES=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from app import create_app, db
from app.db import get_engine
from app.models import TikTokUser, UserSnapshot

CASSETTES = Path(__file__).parent / "cassettes"

DEFAULT_TEST_DATABASE_URL = "postgresql+pg8000://postgres@127.0.0.1:5432/test"

# Failure cassettes run back to back, so the shared client must not open its breaker.
# The cool-down has tests of its own with a dedicated client.
SHARED_BREAKER_THRESHOLD = 1000


def postgres_url() -> str:
    """Return the URL of the Postgres database that the tests may empty and migrate."""
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """Connect to TEST_DATABASE_URL and migrate it from scratch with Alembic."""
    url = postgres_url()
    engine = db.create_db_engine(url)

    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        engine.dispose()
        message = f"Postgres at {db.safe_url(url)} is unreachable: {error.orig}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message} (REQUIRE_POSTGRES=1)")
        pytest.skip(message)

    db.downgrade(engine, "base")
    db.upgrade(engine)

    yield engine
    engine.dispose()


@pytest.fixture
def postgres_database(postgres_engine: Engine) -> str:
    """Return the migrated Postgres URL with every table emptied."""
    with postgres_engine.begin() as connection:
        connection.execute(text("TRUNCATE user_snapshots, tiktok_users RESTART IDENTITY"))
    return postgres_url()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> str:
    """Return the URL of a new SQLite file migrated with Alembic."""
    url = f"sqlite:///{tmp_path / 'tiktok_users.sqlite'}"
    engine = db.create_db_engine(url)
    db.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Return a migrated, empty database: a SQLite file or the Postgres test database."""
    return request.getfixturevalue(f"{request.param}_database")


def new_tiktok_client(**overrides: Any) -> Any:
    """Create a TikTok client that replays the cassettes; it launches Chromium when used."""
    from app.tiktok import TikTokClient, TikTokSettings

    settings: dict[str, Any] = {
        "cassettes": CASSETTES,
        "breaker_threshold": SHARED_BREAKER_THRESHOLD,
    }
    settings.update(overrides)
    return TikTokClient(TikTokSettings(**settings))


def new_app(database_url: str, tiktok_client: Any, **config: Any) -> Flask:
    """Create an app for tests on `database_url` with the given TikTok client."""
    test_config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "AUTO_MIGRATE": False,
        "TIKTOK_CLIENT": tiktok_client,
    }
    test_config.update(config)
    return create_app(test_config)


@pytest.fixture(scope="session")
def tiktok_client() -> Iterator[Any]:
    """The TikTok client shared by the whole session, replaying tests/cassettes."""
    client = new_tiktok_client()
    yield client
    client.close()


@pytest.fixture
def make_tiktok_client() -> Iterator[Callable[..., Any]]:
    """Return a factory of TikTok clients with their own settings, closed after the test."""
    clients: list[Any] = []

    def make(**overrides: Any) -> Any:
        client = new_tiktok_client(**overrides)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps on the test database with a given TikTok client."""
    apps: list[Flask] = []

    def make(tiktok_client: Any, **config: Any) -> Flask:
        app = new_app(config.pop("DATABASE_URL", database_url), tiktok_client, **config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["db"].engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], tiktok_client: Any) -> Flask:
    """The app on the parametrized database with the shared TikTok client."""
    return make_app(tiktok_client)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner of `app`."""
    return app.test_cli_runner()


class StoredRows:
    """Reads the test database through an engine of its own, outside the app's session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def counts(self) -> tuple[int, int]:
        """Return the numbers of user rows and of snapshot rows."""
        with self.engine.connect() as connection:
            users = connection.execute(select(func.count()).select_from(TikTokUser)).scalar_one()
            snapshots = connection.execute(
                select(func.count()).select_from(UserSnapshot)
            ).scalar_one()
        return users, snapshots

    def dump(self) -> list[tuple[Any, ...]]:
        """Return every user and snapshot row, to compare the database before and after."""
        with self.engine.connect() as connection:
            users = connection.execute(select(TikTokUser.__table__).order_by(TikTokUser.id)).all()
            snapshots = connection.execute(
                select(UserSnapshot.__table__).order_by(UserSnapshot.id)
            ).all()
        return [tuple(row) for row in users] + [tuple(row) for row in snapshots]

    def user(self, user_id: int) -> dict[str, Any] | None:
        """Return the user row with `user_id` as a dict, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(TikTokUser.__table__).where(TikTokUser.id == user_id)
            ).first()
        return None if row is None else dict(row._mapping)

    def snapshots(self, user_id: int) -> list[dict[str, Any]]:
        """Return the snapshot rows of `user_id`, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(UserSnapshot.__table__)
                .where(UserSnapshot.user_id == user_id)
                .order_by(UserSnapshot.id)
            ).all()
        return [dict(row._mapping) for row in rows]


@pytest.fixture
def stored(database_url: str) -> Iterator[StoredRows]:
    """Access to the rows of the test database, for assertions after requests."""
    engine = db.create_db_engine(database_url)
    yield StoredRows(engine)
    engine.dispose()


@pytest.fixture
def failing_snapshot_insert(app: Flask) -> Iterator[None]:
    """Install a trigger that makes every snapshot insert fail, then remove it."""
    with app.app_context():
        engine = get_engine()
    postgres = engine.dialect.name == "postgresql"

    with engine.begin() as connection:
        if postgres:
            connection.execute(
                text(
                    "CREATE FUNCTION fail_snapshot() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'snapshot insert failed on purpose'; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER fail_snapshot BEFORE INSERT ON user_snapshots "
                    "FOR EACH ROW EXECUTE FUNCTION fail_snapshot()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER fail_snapshot BEFORE INSERT ON user_snapshots BEGIN "
                    "SELECT RAISE(ABORT, 'snapshot insert failed on purpose'); END"
                )
            )

    yield

    with engine.begin() as connection:
        if postgres:
            connection.execute(text("DROP TRIGGER fail_snapshot ON user_snapshots"))
            connection.execute(text("DROP FUNCTION fail_snapshot()"))
        else:
            connection.execute(text("DROP TRIGGER fail_snapshot"))
