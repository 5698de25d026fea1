"""An unmigrated database gets 503 database-not-migrated, before anything reaches TikTok.

The app reads the Alembic revision at start-up and, while it is not current, at each
request; once current, it is not read again. A table that disappears later is reported
the same way, not as a lost connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import new_app, postgres_url
from flask import Flask
from flask.cli import cli
from sqlalchemy import Engine, event, inspect

from app import db

PROBLEM = "application/problem+json"
MIGRATE_COMMAND = "flask --app app db upgrade"
LAMBDA_MIGRATE_EVENT = '{"command": "migrate"}'
REPOSITORY = Path(__file__).parent.parent


@pytest.fixture
def unmigrated_sqlite(tmp_path: Path) -> str:
    """Return the URL of a SQLite file without any table."""
    return f"sqlite:///{tmp_path / 'unmigrated.sqlite'}"


@pytest.fixture
def unmigrated_postgres(postgres_engine: Engine) -> Iterator[str]:
    """Return the Postgres test database with every migration reverted, migrated again after."""
    db.downgrade(postgres_engine, "base")
    yield postgres_url()
    db.upgrade(postgres_engine)


@pytest.fixture(params=["sqlite", "postgres"])
def unmigrated_url(request: pytest.FixtureRequest) -> str:
    """Return an unmigrated database: a new SQLite file or the reverted Postgres database."""
    return request.getfixturevalue(f"unmigrated_{request.param}")


@pytest.fixture
def make_unmigrated_app(unmigrated_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps on the unmigrated database, disposed after the test."""
    apps: list[Flask] = []

    def make(tiktok_client: Any) -> Flask:
        app = new_app(unmigrated_url, tiktok_client)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["db"].engine.dispose()


def test_post_unmigrated_skips_tiktok(
    make_unmigrated_app: Callable[..., Flask], make_tiktok_client: Callable[..., Any]
) -> None:
    tiktok_client = make_tiktok_client()
    client = make_unmigrated_app(tiktok_client).test_client()

    response = client.post("/tiktok_users", json={"tiktok_username": "zg.520"})

    assert response.status_code == 503
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/database-not-migrated"
    assert MIGRATE_COMMAND in response.json["detail"]
    assert LAMBDA_MIGRATE_EVENT in response.json["detail"]
    assert "nothing was stored" in response.json["detail"]
    assert tiktok_client.launch_count == 0


def test_get_unmigrated(make_unmigrated_app: Callable[..., Flask], tiktok_client: Any) -> None:
    client = make_unmigrated_app(tiktok_client).test_client()

    response = client.get("/tiktok_users/zg.520")

    assert response.status_code == 503
    assert response.json["type"] == "/problems/database-not-migrated"
    assert MIGRATE_COMMAND in response.json["detail"]
    assert "stored" not in response.json["detail"]


def test_start_up_warns_unmigrated(
    make_unmigrated_app: Callable[..., Flask], tiktok_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.db")

    make_unmigrated_app(tiktok_client)

    warnings = [record.getMessage() for record in caplog.records if record.name == "app.db"]
    assert any(MIGRATE_COMMAND in message for message in warnings)


def test_upgrade_without_restart(
    make_unmigrated_app: Callable[..., Flask], tiktok_client: Any
) -> None:
    app = make_unmigrated_app(tiktok_client)
    client = app.test_client()
    before = client.get("/tiktok_users/zg.520")

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    after = client.get("/tiktok_users/zg.520")

    assert before.status_code == 503
    assert result.exit_code == 0, result.output
    assert after.status_code == 404
    assert after.json["type"] == "/problems/not-found"


def test_dropped_tables_not_connection_loss(app: Flask) -> None:
    client = app.test_client()
    engine = app.extensions["db"].engine
    assert client.get("/tiktok_users/zg.520").status_code == 404

    try:
        db.downgrade(engine, "base")
        response = client.get("/tiktok_users/zg.520")
    finally:
        db.upgrade(engine)

    assert response.status_code == 503
    assert response.json["type"] == "/problems/database-not-migrated"


def test_revision_read_once(app: Flask) -> None:
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = app.extensions["db"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            app.test_client().get("/tiktok_users/zg.520")
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert statements
    assert not [statement for statement in statements if "alembic_version" in statement]


def run_flask(
    arguments: list[str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """Run the `flask` command in this process on `database_url`; return exit code and output."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    # The flask group sets FLASK_RUN_FROM_CLI; monkeypatch restores it after the test.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.chdir(REPOSITORY)

    result = CliRunner().invoke(cli, ["--app", "app", *arguments])
    return result.exit_code, result.output


def app_db_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages of the WARNING and higher records of the app.db logger."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "app.db" and record.levelno >= logging.WARNING
    ]


def test_cli_upgrade_no_start_up_warning(
    unmigrated_sqlite: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.db")

    exit_code, output = run_flask(["db", "upgrade"], unmigrated_sqlite, monkeypatch)

    engine = db.create_db_engine(unmigrated_sqlite)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert exit_code == 0, output
    assert "tiktok_users" in tables
    assert app_db_warnings(caplog) == []
    assert MIGRATE_COMMAND in caplog.text


def test_cli_builtin_keeps_start_up_warning(
    unmigrated_sqlite: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # `flask routes` loads the app in its own click context, as `flask run` does.
    caplog.set_level(logging.DEBUG, logger="app.db")

    exit_code, output = run_flask(["routes"], unmigrated_sqlite, monkeypatch)

    warnings = app_db_warnings(caplog)
    assert exit_code == 0, output
    assert any(MIGRATE_COMMAND in message for message in warnings)
    assert any(LAMBDA_MIGRATE_EVENT in message for message in warnings)
