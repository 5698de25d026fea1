"""Flask service that collects TikTok user profiles into SQL and serves them back."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from app import db, errors, openapi, tiktok, users
from app.config import load_config

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def create_app(
    test_config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Create the app: config from the environment (or `test_config`), database, TikTok client.

    With no DATABASE_URL the app uses a SQLite file in its instance folder (Flask's
    default, or `instance_path`) and applies the migrations at start-up. Any other
    database is migrated with `flask --app app db upgrade`; until then a warning is
    logged and /tiktok_users responds with 503. Raises ConfigError for an invalid setting.
    """
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    # Werkzeug redirects a path with "//" to the merged path with an HTML page (308).
    # Without merging, such a path matches no route and gets a 404 problem.
    app.url_map.merge_slashes = False
    # Nicknames and bios are often not ASCII: send them as UTF-8, not as \u escapes.
    # Keys keep the schemas' order, so "id" and "type" come first.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.from_mapping(load_config(os.environ, app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)

    configure_logging(app.config["LOG_LEVEL"])

    errors.init_app(app)
    db.init_app(app)
    tiktok.init_app(app)
    app.register_blueprint(users.bp)
    openapi.init_app(app)

    if app.config["AUTO_MIGRATE"]:
        db.upgrade(app.extensions["db"].engine)
    db.check_schema_at_start(app)

    logger.info("App started with database %s", db.safe_url(app.config["DATABASE_URL"]))
    return app


def configure_logging(level: str) -> None:
    """Send the app's log records to stderr at `level`, unless the host configured logging."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format=LOG_FORMAT)

    logging.getLogger(__name__).setLevel(level)
