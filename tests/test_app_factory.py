"""The app factory's configuration, logging, and the Alembic migrations on both databases."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError

from app import create_app, db
from app.config import FALSE_WORDS, TRUE_WORDS, ConfigError, load_config, parse_boolean
from app.tiktok import TikTokSettings

REPOSITORY = Path(__file__).parent.parent
TABLES = {"alembic_version", "tiktok_users", "user_snapshots"}


def table_names(url: str) -> set[str]:
    """Return the names of the tables in the database at `url`."""
    engine = db.create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_default_sqlite_in_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiktok_client: object
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("AUTO_MIGRATE", raising=False)

    app = create_app({"TIKTOK_CLIENT": tiktok_client}, instance_path=str(tmp_path))
    app.extensions["db"].engine.dispose()

    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'tiktok_users.sqlite'}"
    assert app.config["AUTO_MIGRATE"] is True
    assert table_names(app.config["DATABASE_URL"]) == TABLES


def test_database_url_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiktok_client: object
) -> None:
    url = "postgresql+pg8000://postgres@127.0.0.1:5432/elsewhere"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("AUTO_MIGRATE", raising=False)

    app = create_app({"TIKTOK_CLIENT": tiktok_client}, instance_path=str(tmp_path))

    assert app.config["DATABASE_URL"] == url
    assert app.config["AUTO_MIGRATE"] is False
    assert not list(tmp_path.iterdir())


def test_max_content_length_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiktok_client: object
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://postgres@127.0.0.1:5432/x")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "512")

    app = create_app({"TIKTOK_CLIENT": tiktok_client}, instance_path=str(tmp_path))

    assert app.config["MAX_CONTENT_LENGTH"] == 512


@pytest.mark.parametrize("word", ["true", "TRUE", "yes", "on", "1", " True "])
def test_auto_migrate_true_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiktok_client: object, word: str
) -> None:
    url = f"sqlite:///{tmp_path / 'words.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("AUTO_MIGRATE", word)

    app = create_app({"TIKTOK_CLIENT": tiktok_client}, instance_path=str(tmp_path))
    app.extensions["db"].engine.dispose()

    assert app.config["AUTO_MIGRATE"] is True
    assert table_names(url) == TABLES


@pytest.mark.parametrize("word", ["false", "FALSE", "no", "off", "0"])
def test_auto_migrate_false_words(word: str) -> None:
    config = load_config({"AUTO_MIGRATE": word}, "/tmp/instance")

    assert config["AUTO_MIGRATE"] is False


@pytest.mark.parametrize("word", TRUE_WORDS + FALSE_WORDS)
def test_booleans_match_tiktok_settings(word: str) -> None:
    tiktok_value = TikTokSettings.from_env({"TIKTOK_HEADLESS": word}).headless

    assert parse_boolean("AUTO_MIGRATE", word) is tiktok_value


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("AUTO_MIGRATE", "maybe", "one of 1, true, yes, on, 0, false, no, off"),
        ("MAX_CONTENT_LENGTH", "abc", "a positive integer"),
        ("MAX_CONTENT_LENGTH", "-1", "a positive integer"),
        ("MAX_CONTENT_LENGTH", "0", "a positive integer"),
        ("MAX_CONTENT_LENGTH", "4.5", "a positive integer"),
        ("LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ],
)
def test_invalid_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as raised:
        create_app(instance_path=str(tmp_path))

    assert str(raised.value) == f"invalid {name}={value!r}: expected {expected}"


def test_log_level_any_case() -> None:
    config = load_config({"LOG_LEVEL": "debug"}, "/tmp/instance")

    assert config["LOG_LEVEL"] == "DEBUG"


def test_log_hides_database_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, tiktok_client: object
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://app:s3cret-pw@127.0.0.1:5432/x")
    caplog.set_level(logging.INFO)

    create_app({"TIKTOK_CLIENT": tiktok_client}, instance_path=str(tmp_path))

    assert "App started with database" in caplog.text
    assert "s3cret-pw" not in caplog.text
    assert "app:***@127.0.0.1" in caplog.text


# Parts of the database password in the DATABASE_URL tests, which must never be shown.
PASSWORD_PARTS = ("Hunter2", "Secret123")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "postgresql+pg8000://postgres:Hunter2@Secret123@127.0.0.1:5499/db",
            "Percent-encode them",
        ),
        ("postgresql+pg8000://postgres@Hunter2@Secret123@127.0.0.1:5499/db", "contains '@'"),
        ("postgresql://postgres:Hunter2Secret123@127.0.0.1:5499/db", "driver psycopg"),
        ("postgres://postgres:Hunter2Secret123@127.0.0.1:5499/db", "scheme postgres://"),
        ("postgresql+psycopg2://postgres:Hunter2Secret123@127.0.0.1/db", "not installed"),
        ("postgresql+nosuch://postgres:Hunter2Secret123@127.0.0.1/db", "no driver 'nosuch'"),
        ("mysql+pymysql://root:Hunter2Secret123@127.0.0.1/db", "cannot store to mysql"),
        ("postgresql+pg8000://postgres:Hunter2Secret123@127.0.0.1:port/db", "port"),
        ("not a url", "not a URL"),
        ("Hunter2Secret123", "not a URL"),
    ],
)
def test_database_url_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, url: str, problem: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ConfigError) as raised:
        create_app(instance_path=str(tmp_path))

    message = str(raised.value)
    assert raised.value.name == "DATABASE_URL"
    assert message.startswith("invalid DATABASE_URL")
    assert problem in message
    for part in PASSWORD_PARTS:
        assert part not in message, part
        assert part not in str(raised.value.value), part
        assert part not in caplog.text, part


def test_database_url_password_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+pg8000://postgres:Hunter2@Secret123@127.0.0.1:5499/db"
    monkeypatch.setenv("DATABASE_URL", url)

    with pytest.raises(ConfigError) as raised:
        create_app(instance_path=str(tmp_path))

    assert "'postgresql+pg8000://postgres:***@127.0.0.1:5499/db'" in str(raised.value)


def test_database_url_encoded_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, tiktok_client: object
) -> None:
    # Nothing listens on port 5499, so start-up logs that the database is unreachable.
    url = "postgresql+pg8000://postgres:Hunter2%40Secret123@127.0.0.1:5499/db"
    monkeypatch.setenv("DATABASE_URL", f" {url}\n")
    caplog.set_level(logging.DEBUG)

    app = create_app({"TIKTOK_CLIENT": tiktok_client}, instance_path=str(tmp_path))
    app.extensions["db"].engine.dispose()

    assert app.config["DATABASE_URL"] == url
    assert app.extensions["db"].engine.url.password == "Hunter2@Secret123"
    assert "cannot be reached at start-up" in caplog.text
    for part in PASSWORD_PARTS:
        assert part not in caplog.text, part


def test_cli_db_upgrade(tmp_path: Path, tiktok_client: object) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    app = create_app({"DATABASE_URL": url, "AUTO_MIGRATE": False, "TIKTOK_CLIENT": tiktok_client})

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    app.extensions["db"].engine.dispose()

    assert result.exit_code == 0, result.output
    assert "head" in result.output
    assert table_names(url) == TABLES


def test_cli_db_upgrade_up_to_date(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output


def test_alembic_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alembic.sqlite'}"
    environment = {**os.environ, "DATABASE_URL": url}

    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert table_names(url) == TABLES


def test_models_match_migrations(app: Flask) -> None:
    engine = app.extensions["db"].engine
    config = db.alembic_config()

    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)


def test_downgrade_and_upgrade(app: Flask, database_url: str) -> None:
    engine = app.extensions["db"].engine

    try:
        db.downgrade(engine, "base")
        assert table_names(database_url) == {"alembic_version"}
    finally:
        db.upgrade(engine)

    assert table_names(database_url) == TABLES


def test_payload_column_type(app: Flask) -> None:
    engine = app.extensions["db"].engine
    columns = {column["name"]: column for column in inspect(engine).get_columns("tiktok_users")}

    if engine.dialect.name == "postgresql":
        assert isinstance(columns["payload"]["type"], JSONB)
    else:
        assert str(columns["payload"]["type"]) == "JSON"


def test_foreign_keys_enforced(app: Flask) -> None:
    # pg8000 reports a foreign key violation as ProgrammingError, sqlite3 as IntegrityError.
    engine = app.extensions["db"].engine

    with pytest.raises(DBAPIError, match=r"(?i)foreign key"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_snapshots (user_id, collected_at, source) "
                "VALUES (1, '2026-01-01 00:00:00+00:00', 'api')"
            )
        )
