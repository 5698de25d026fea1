"""Settings for the Flask app, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# File name of the default SQLite database inside Flask's instance folder.
SQLITE_FILENAME = "tiktok_users.sqlite"

# A request body carries one username of at most 30 characters, so 4 KiB leaves room for
# whitespace and pretty-printing while rejecting anything larger with 413.
DEFAULT_MAX_CONTENT_LENGTH = 4 * 1024


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """Return the URL of the SQLite file used when DATABASE_URL is not set."""
    return f"sqlite:///{Path(instance_path) / SQLITE_FILENAME}"


def database_url_from_env(environ: Mapping[str, str], instance_path: str) -> str:
    """Return DATABASE_URL from `environ`, or the default SQLite file's URL."""
    return environ.get("DATABASE_URL") or default_database_url(instance_path)


def load_config(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the app's config from environment variables.

    DATABASE_URL: SQLAlchemy URL, e.g. postgresql+pg8000://user:password@host/db; unset
        means a SQLite file in the instance folder.
    AUTO_MIGRATE: "1" or "0"; applies the Alembic migrations at start-up. Defaults to on
        for the SQLite default and off for any DATABASE_URL.
    MAX_CONTENT_LENGTH: maximum request body in bytes.
    LOG_LEVEL: level name for the app's loggers (default INFO).
    """
    url = environ.get("DATABASE_URL")
    auto_migrate_default = "0" if url else "1"

    return {
        "DATABASE_URL": url or default_database_url(instance_path),
        "AUTO_MIGRATE": environ.get("AUTO_MIGRATE", auto_migrate_default) == "1",
        "MAX_CONTENT_LENGTH": int(environ.get("MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)),
        "LOG_LEVEL": environ.get("LOG_LEVEL", "INFO").upper(),
    }
