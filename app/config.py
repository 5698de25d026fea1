"""Settings for the Flask app, read from the environment and checked before start-up."""

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

# Words accepted for a boolean setting, the same as for the TIKTOK_* booleans.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")

# Level names of the standard logging module.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """An environment variable contains a value the app cannot use."""

    def __init__(self, name: str, value: str, expected: str, problem: str | None = None) -> None:
        if problem is None:
            message = f"invalid {name}={value!r}: expected {expected}"
        else:
            message = f"invalid {name}={value!r}: {problem} (expected {expected})"
        super().__init__(message)
        self.name = name
        self.value = value


def parse_boolean(name: str, value: str) -> bool:
    """Parse a boolean setting: 1, true, yes, on or 0, false, no, off, in any case."""
    word = value.strip().lower()

    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False

    raise ConfigError(name, value, f"one of {', '.join(TRUE_WORDS + FALSE_WORDS)}")


def parse_positive_integer(name: str, value: str) -> int:
    """Parse a setting that must be a whole number of 1 or more."""
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(name, value, "a positive integer") from None

    if number < 1:
        raise ConfigError(name, value, "a positive integer")
    return number


def parse_log_level(name: str, value: str) -> str:
    """Parse a logging level name, in any case."""
    level = value.strip().upper()

    if level not in LOG_LEVELS:
        raise ConfigError(name, value, f"one of {', '.join(LOG_LEVELS)}")
    return level


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """Return the URL of the SQLite file used when DATABASE_URL is not set."""
    return f"sqlite:///{Path(instance_path) / SQLITE_FILENAME}"


def database_url_from_env(environ: Mapping[str, str], instance_path: str) -> str:
    """Return DATABASE_URL from `environ`, or the default SQLite file's URL."""
    return environ.get("DATABASE_URL") or default_database_url(instance_path)


def load_config(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the app's config from environment variables, raising ConfigError on a bad value.

    DATABASE_URL: SQLAlchemy URL, e.g. postgresql+pg8000://user:password@host/db; unset
        means a SQLite file in the instance folder.
    AUTO_MIGRATE: a boolean (1, true, yes, on or 0, false, no, off); applies the Alembic
        migrations at start-up. Defaults to on for the SQLite default and off for any
        DATABASE_URL.
    MAX_CONTENT_LENGTH: maximum request body in bytes, a positive integer.
    LOG_LEVEL: level name for the app's loggers (default INFO).
    """
    url = environ.get("DATABASE_URL")
    auto_migrate = environ.get("AUTO_MIGRATE", "").strip()
    max_content_length = environ.get("MAX_CONTENT_LENGTH", "").strip()
    log_level = environ.get("LOG_LEVEL", "").strip()

    return {
        "DATABASE_URL": url or default_database_url(instance_path),
        "AUTO_MIGRATE": (parse_boolean("AUTO_MIGRATE", auto_migrate) if auto_migrate else not url),
        "MAX_CONTENT_LENGTH": (
            parse_positive_integer("MAX_CONTENT_LENGTH", max_content_length)
            if max_content_length
            else DEFAULT_MAX_CONTENT_LENGTH
        ),
        "LOG_LEVEL": parse_log_level("LOG_LEVEL", log_level) if log_level else "INFO",
    }
