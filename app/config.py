"""Settings for the Flask app, read from the environment and checked before start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

# File name of the default SQLite database inside Flask's instance folder.
SQLITE_FILENAME = "tiktok_users.sqlite"

# A request body carries one username of at most 30 characters, so 4 KiB leaves room for
# whitespace and pretty-printing while rejecting anything larger with 413.
DEFAULT_MAX_CONTENT_LENGTH = 4 * 1024

# Words accepted for a boolean setting, the same as for the TIKTOK_* booleans.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")

# Database backends the app can store to (app/collection.py builds its upsert for these),
# each with the scheme of the driver the app installs.
DATABASE_SCHEMES = {"postgresql": "postgresql+pg8000://", "sqlite": "sqlite://"}

# The forms of DATABASE_URL the app accepts, shown in the error for a rejected value.
DATABASE_URL_FORMS = (
    "postgresql+pg8000://user:password@host:5432/database, with the user name and password "
    "percent-encoded, or sqlite:///path/to/file.sqlite"
)

# Level names of the standard logging module.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """An environment variable contains a value the app cannot use.

    `value` is None when the value must not be shown, because it may be a secret.
    """

    def __init__(
        self, name: str, value: str | None, expected: str, problem: str | None = None
    ) -> None:
        setting = f"{name} (value not shown)" if value is None else f"{name}={value!r}"
        if problem is None:
            message = f"invalid {setting}: expected {expected}"
        else:
            message = f"invalid {setting}: {problem} (expected {expected})"
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


def mask_password(url: str) -> str:
    """Return `url` with the password replaced by ***, for messages.

    The credentials are read up to the last '@', so a password that contains an
    unencoded '@' is hidden too, unlike with SQLAlchemy's `hide_password`.
    """
    scheme, separator, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not separator or not at:
        return url

    user, colon, _ = credentials.partition(":")
    if "@" in user:
        # Without a ':' before it, an unencoded '@' may be inside the password.
        user = "***"

    password = ":***" if colon else ""
    return f"{scheme}://{user}{password}@{location}"


def parse_database_url(value: str) -> str:
    """Check DATABASE_URL before an engine is made from it, and return it stripped.

    Rejects a value that is not a URL, credentials with an unencoded '@' (SQLAlchemy
    would read the rest of the password as the host, and log it), and a backend or
    driver that the app cannot use. Messages show the URL with its password masked, and
    never SQLAlchemy's own message, which can repeat the password.
    """
    url = value.strip()
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ConfigError("DATABASE_URL", None, DATABASE_URL_FORMS, "it is not a URL")

    masked_url = mask_password(url)
    backend = scheme.partition("+")[0].lower()
    if backend == "postgres":
        raise ConfigError(
            "DATABASE_URL",
            masked_url,
            DATABASE_URL_FORMS,
            "SQLAlchemy does not accept the scheme postgres://; write postgresql+pg8000://",
        )
    if backend not in DATABASE_SCHEMES:
        raise ConfigError(
            "DATABASE_URL",
            masked_url,
            DATABASE_URL_FORMS,
            f"the app cannot store to {scheme}:// databases",
        )

    if backend == "postgresql" and rest.count("@") > 1:
        raise ConfigError(
            "DATABASE_URL",
            masked_url,
            DATABASE_URL_FORMS,
            "the user name or password contains '@', so part of the password would be "
            "read as the host. Percent-encode them ('@' is %40), for example with "
            "urllib.parse.quote(password, safe='')",
        )

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(
            "DATABASE_URL",
            masked_url,
            DATABASE_URL_FORMS,
            "SQLAlchemy cannot parse it; check that the port is a number",
        ) from None

    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            "DATABASE_URL",
            masked_url,
            DATABASE_URL_FORMS,
            f"SQLAlchemy has no driver {scheme.partition('+')[2]!r} for {backend}; "
            f"write {DATABASE_SCHEMES[backend]}",
        ) from None

    try:
        dialect.import_dbapi()
    except ImportError:
        raise ConfigError(
            "DATABASE_URL",
            masked_url,
            DATABASE_URL_FORMS,
            f"{scheme}:// uses the driver {dialect.driver}, which is not installed; "
            f"write {DATABASE_SCHEMES[backend]}",
        ) from None

    return url


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """Return the URL of the SQLite file used when DATABASE_URL is not set."""
    return f"sqlite:///{Path(instance_path) / SQLITE_FILENAME}"


def database_url_from_env(environ: Mapping[str, str], instance_path: str) -> str:
    """Return DATABASE_URL from `environ`, or the default SQLite file's URL."""
    return environ.get("DATABASE_URL") or default_database_url(instance_path)


def load_config(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the app's config from environment variables, raising ConfigError on a bad value.

    DATABASE_URL: SQLAlchemy URL, postgresql+pg8000://user:password@host/db with the
        user name and password percent-encoded, or sqlite:///path; unset means a SQLite
        file in the instance folder.
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
        "DATABASE_URL": parse_database_url(url) if url else default_database_url(instance_path),
        "AUTO_MIGRATE": (parse_boolean("AUTO_MIGRATE", auto_migrate) if auto_migrate else not url),
        "MAX_CONTENT_LENGTH": (
            parse_positive_integer("MAX_CONTENT_LENGTH", max_content_length)
            if max_content_length
            else DEFAULT_MAX_CONTENT_LENGTH
        ),
        "LOG_LEVEL": parse_log_level("LOG_LEVEL", log_level) if log_level else "INFO",
    }
