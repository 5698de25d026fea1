"""AWS Lambda entry point: API Gateway and ALB events into the Flask app through apig-wsgi.

The app, and with it the TikTok client and its Chromium, is created once per container
when Lambda imports this module. Warm invocations reuse both. Chromium starts on the
first POST, so a container that only serves GETs never launches it.
"""

from __future__ import annotations

import json
import logging
import os
import reprlib
import time
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import unquote

from apig_wsgi import make_lambda_handler
from flask import Flask
from sqlalchemy import URL

from app import create_app, db
from app.config import parse_log_level

logger = logging.getLogger(__name__)

# Environment variables that hold the ARN (or name) of a Secrets Manager secret, and the
# variable that the app reads the secret's value from. A variable that is already set
# wins, so `sam local` and tests can pass values directly.
SECRET_VARIABLES = {
    "DATABASE_URL_SECRET_ARN": "DATABASE_URL",
    "TIKTOK_MS_TOKEN_SECRET_ARN": "TIKTOK_MS_TOKEN",
    "TIKTOK_PROXY_SECRET_ARN": "TIKTOK_PROXY",
}

# API Gateway's catch-all stage for HTTP APIs. It is served at the root of the invoke
# URL, so its name never appears in the request path.
DEFAULT_STAGE = "$default"

# Key of a direct invocation (`aws lambda invoke`) that runs a maintenance command
# instead of an HTTP request. API Gateway and ALB build their events themselves, so no
# HTTP client can send it.
COMMAND_KEY = "command"
COMMANDS = ("migrate",)

# The events the handler serves, as the error for any other event states them.
EXPECTED_EVENTS = (
    'expected an API Gateway (payload 1.0 or 2.0) or ALB request, or {"command": "migrate"}'
)

# Number of keys the error for an unknown event shows. It shows keys only, because the
# values may carry request bodies or credentials.
MAX_KEYS_SHOWN = 10

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def load_secrets(environ: MutableMapping[str, str], client: Any = None) -> None:
    """Copy the values of the Secrets Manager secrets named in `environ` into `environ`.

    Runs once per container, before the app reads its settings, so the values are never
    part of the function's configuration. `client` is a boto3 Secrets Manager client
    (default: one for the function's region).
    """
    pending = {
        arn_variable: target
        for arn_variable, target in SECRET_VARIABLES.items()
        if environ.get(arn_variable) and not environ.get(target)
    }
    if not pending:
        return

    # boto3 is imported only when a secret is named: it is installed in the Lambda image
    # (infra/requirements-lambda.txt), not with the app's own dependencies.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if client is None:
        client = boto3.client("secretsmanager")

    for arn_variable, target in pending.items():
        secret_id = environ[arn_variable]
        started = time.perf_counter()

        try:
            secret = client.get_secret_value(SecretId=secret_id)["SecretString"]
        except (BotoCoreError, ClientError):
            logger.exception("Reading secret %s for %s failed", secret_id, target)
            raise

        environ[target] = database_url(secret) if target == "DATABASE_URL" else secret
        logger.info(
            "Read %s from secret %s in %.3f s",
            target,
            secret_id,
            time.perf_counter() - started,
        )


def database_url(secret: str) -> str:
    """Return a SQLAlchemy URL from a database secret.

    The secret is either the URL itself or the JSON object that RDS and Secrets Manager
    store for a database user (username, password, host, port, dbname).
    """
    try:
        fields = json.loads(secret)
    except json.JSONDecodeError:
        return secret.strip()

    if not isinstance(fields, dict):
        raise ValueError(
            "the database secret must be a URL or a JSON object with "
            "username, password, host, port and dbname"
        )

    missing = [name for name in ("username", "password", "host") if not fields.get(name)]
    if missing:
        raise ValueError(
            f"the database secret is missing {', '.join(missing)}: store the database URL "
            "instead, or a JSON object with username, password, host, port and dbname"
        )

    url = URL.create(
        "postgresql+pg8000",
        username=fields["username"],
        password=fields["password"],
        host=fields["host"],
        port=int(fields.get("port") or 5432),
        database=fields.get("dbname") or "postgres",
    )
    return url.render_as_string(hide_password=False)


def split_stage(event: dict[str, Any], path_info: str) -> tuple[str, str]:
    """Return (SCRIPT_NAME, PATH_INFO) for `event`, so URLs the app builds keep the stage.

    - HTTP API, payload 2.0: a named stage is the first segment of rawPath, and the
      `$default` stage has no segment.
    - REST API, payload 1.0: `path` has no stage, and `requestContext.path` is the stage
      (or a custom domain's base path) followed by `path`.
    - ALB: no prefix.
    """
    context = event.get("requestContext") or {}

    if "elb" in context:
        return "", path_info

    if event.get("version") == "2.0":
        stage = context.get("stage") or DEFAULT_STAGE
        prefix = f"/{stage}"
        if stage != DEFAULT_STAGE and (path_info == prefix or path_info.startswith(prefix + "/")):
            return prefix, path_info[len(prefix) :]
        return "", path_info

    # NOTE: an HTTP API that sends payload 1.0 from a named stage puts the stage in both
    # paths (not checked on AWS), so no prefix is found and the routes do not match.
    full_path = unquote(context.get("path") or "", encoding="iso-8859-1")
    if full_path != path_info and full_path.endswith(path_info):
        return full_path[: len(full_path) - len(path_info)], path_info
    return "", path_info


def mount_at_stage(wsgi_app: WSGIApp) -> WSGIApp:
    """Wrap `wsgi_app` so that the stage prefix reaches it as SCRIPT_NAME.

    apig-wsgi 2.20 always sets SCRIPT_NAME to "", so without this a `Location` header
    built with `url_for` would drop the stage.
    """

    def app_at_stage(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        script_name, path_info = split_stage(environ["apig_wsgi.full_event"], environ["PATH_INFO"])
        environ["SCRIPT_NAME"] = script_name
        environ["PATH_INFO"] = path_info
        return wsgi_app(environ, start_response)

    return app_at_stage


# Raised instead of returning a 400 response, because no HTTP client sends such an event.
# A raised error makes Lambda count a failed invocation (the Errors metric, and retries
# or a dead-letter queue for asynchronous sources), where a 400 would count as a success.
class InvalidEvent(ValueError):
    """An event that is neither an HTTP request nor a known command."""


def is_http_event(event: dict[str, Any]) -> bool:
    """Return whether `event` carries an HTTP request that apig-wsgi can translate.

    API Gateway HTTP APIs send payload 2.0 (`version`, `rawPath`, `requestContext.http`),
    and REST APIs and ALBs send payload 1.0 and its ALB variant (`httpMethod`, `path`).
    """
    if event.get("version") == "2.0":
        context = event.get("requestContext")
        return (
            "rawPath" in event
            and isinstance(context, dict)
            and isinstance(context.get("http"), dict)
        )

    return "httpMethod" in event and "path" in event


def describe_keys(event: dict[str, Any]) -> str:
    """Return the event's top-level keys for an error message, without their values."""
    if not event:
        return "no keys"

    keys = sorted(str(key) for key in event)
    shown = ", ".join(repr(key) for key in keys[:MAX_KEYS_SHOWN])
    if len(keys) > MAX_KEYS_SHOWN:
        shown += f" and {len(keys) - MAX_KEYS_SHOWN} more"
    return f"keys {shown}"


def reject_event(message: str) -> InvalidEvent:
    """Log `message` as the reason an invocation failed and return the error to raise."""
    logger.error("Invalid event: %s", message)
    return InvalidEvent(message)


def run_command(app: Flask, command: object) -> dict[str, Any]:
    """Run a maintenance command from a direct invocation and return its result.

    `migrate` applies the Alembic migrations to the app's database. Run inside the
    function, it reaches a database in a private subnet without a bastion host.
    """
    if command not in COMMANDS:
        # reprlib shortens a long value, so one bad invocation cannot flood the log.
        raise reject_event(
            f"unknown command {reprlib.repr(command)}: the only command is 'migrate'"
        )

    logger.info("Running command %s", command)
    db.upgrade(app.extensions["db"].engine)
    return {"command": command, "revision": "head"}


def create_handler(app: Flask) -> Callable[[Any, Any], dict[str, Any]]:
    """Return the Lambda handler that serves `app` behind API Gateway or an ALB."""
    # binary_support is left to apig-wsgi's default for each event kind: on for HTTP API
    # payload 2.0 and ALB, off for REST API payload 1.0. Where it is on, bodies whose
    # Content-Type starts with one of apig-wsgi's text prefixes (text/, application/json,
    # application/problem+json, application/vnd.api+json) are sent as text, not base64.
    serve = make_lambda_handler(mount_at_stage(app))
    cold = True

    def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
        nonlocal cold

        if cold:
            cold = False
            logger.info(
                "Cold start: first invocation %s on this container",
                getattr(context, "aws_request_id", "-"),
            )

        if not isinstance(event, dict):
            raise reject_event(
                f"unsupported event of type {type(event).__name__}: {EXPECTED_EVENTS}"
            )

        if COMMAND_KEY in event:
            return run_command(app, event[COMMAND_KEY])

        if not is_http_event(event):
            raise reject_event(f"unsupported event with {describe_keys(event)}: {EXPECTED_EVENTS}")

        return serve(event, context)

    return lambda_handler


# Lambda runs everything below once per container, at import (the init phase). An invalid
# LOG_LEVEL raises the app's ConfigError here, before anything else is read.
_log_level = os.environ.get("LOG_LEVEL", "").strip()
logger.setLevel(parse_log_level("LOG_LEVEL", _log_level) if _log_level else "INFO")
_init_started = time.perf_counter()

load_secrets(os.environ)
app = create_app()
lambda_handler = create_handler(app)

# Lambda's own REPORT line gives the whole init duration, imports included.
logger.info(
    "Cold start: secrets read and app created in %.3f s", time.perf_counter() - _init_started
)
