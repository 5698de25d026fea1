"""RFC 9457 problem details (application/problem+json) for every error the API returns.

Each kind of error has a relative type URI, /problems/<slug>, listed in docs/errors.md.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json, request
from pg8000.exceptions import InterfaceError as Pg8000InterfaceError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from app.db import (
    LAMBDA_MIGRATE_EVENT,
    MIGRATE_COMMAND,
    forget_schema_check,
    is_missing_schema_error,
)
from app.tiktok.errors import (
    AccountNotFound,
    BrowserNotFound,
    RecordingNotFound,
    TikTokBlocked,
    TikTokError,
    TikTokTimeout,
    TikTokUnavailable,
    UsernameRejected,
)

logger = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"

# Seconds a client should wait before retrying when the cause gives no better value.
DEFAULT_RETRY_AFTER = 60

# Characters of a client's value that a detail, the `username` member or a log line
# repeats. Valid usernames have at most 30, so only invalid values are cut, and a huge
# value cannot inflate the response or the log.
MAX_ECHO_LENGTH = 64

# Maximum length of the request path repeated as `instance`. The longest path the API serves, a
# snapshots path with a 30-character username, has 54 characters plus any stage prefix.
MAX_INSTANCE_LENGTH = 256


def quote_value(value: str) -> str:
    """Quote a client's value for a detail or a log line: repr, cut to MAX_ECHO_LENGTH.

    repr() escapes line breaks and other control characters, so a value cannot forge a
    log line. A longer value ends with an ellipsis and its length.
    """
    if len(value) <= MAX_ECHO_LENGTH:
        return repr(value)
    return f"{value[:MAX_ECHO_LENGTH]!r}… ({len(value)} characters)"


def printable(text: str) -> str:
    """Return `text` with control and other non-printable characters backslash-escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def plural(count: int, noun: str) -> str:
    """Return "1 second", "2 seconds": a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def as_sentence(message: str) -> str:
    """Return `message` as a sentence: first letter uppercase, a final period."""
    text = message.strip()
    if not text:
        return text

    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


class Problem(Exception):
    """An error response: raise it in a view and the handler renders it as problem+json."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        username: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.username = username
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        """Return the problem details object of RFC 9457.

        `instance` is left out for a path longer than MAX_INSTANCE_LENGTH and `username`
        for a value longer than MAX_ECHO_LENGTH, because a cut value would be wrong.
        """
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }

        # The path as the client sent it, with any prefix a proxy or API stage strips
        # into SCRIPT_NAME.
        instance = request.script_root + request.path
        if len(instance) <= MAX_INSTANCE_LENGTH:
            body["instance"] = instance

        if self.username is not None and len(self.username) <= MAX_ECHO_LENGTH:
            body["username"] = self.username
        return body


def problem_response(problem: Problem) -> Response:
    """Render `problem` as an application/problem+json response."""
    response = Response(
        json.dumps(problem.to_dict()),
        status=problem.status,
        mimetype=PROBLEM_MIMETYPE,
    )
    response.headers.update(problem.headers)
    return response


# Problem type and title for the HTTP errors that Flask and Werkzeug raise themselves.
HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("invalid-request", "Invalid request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    500: ("internal-error", "Internal server error"),
}


def http_exception_problem(error: HTTPException) -> Problem:
    """Translate a Werkzeug HTTP exception into a problem, keeping headers such as Allow."""
    status = error.code or 500
    slug, title = HTTP_PROBLEMS.get(status, ("http-error", error.name))
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}

    if status == 404:
        detail = (
            f"No resource at {quote_value(request.path)}. The API serves POST /tiktok_users "
            "and GET /tiktok_users/<username or numeric id>."
        )
    elif status == 405:
        allowed = headers.get("Allow", "")
        detail = (
            f"{request.method} is not allowed on {quote_value(request.path)}; "
            f"use one of: {allowed}."
        )
    elif status == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        detail = (
            f"The request body is larger than {limit} bytes; send only "
            '{"tiktok_username": "<username>"}.'
        )
    else:
        detail = error.description or title

    return Problem(status, slug, title, detail, headers=headers)


def tiktok_problem(error: TikTokError) -> Problem:
    """Translate a TikTok client error into a problem: its message, then the fix.

    The client's messages name the username and the cause, so the detail repeats neither.
    A fix that the message already gives (to retry, to record a cassette) is not added.
    """
    username = error.username
    message = as_sentence(error.message)

    if isinstance(error, AccountNotFound):
        return Problem(
            404,
            "account-not-found",
            "TikTok account not found",
            f"{message} Check the spelling of the username.",
            username=username,
        )

    if isinstance(error, UsernameRejected):
        return Problem(
            422, "invalid-username", "Invalid TikTok username", message, username=username
        )

    if isinstance(error, TikTokUnavailable):
        return Problem(
            503,
            "tiktok-unavailable",
            "TikTok is unavailable",
            with_retry(message, error.retry_after),
            username=username,
            headers={"Retry-After": str(error.retry_after)},
        )

    if isinstance(error, TikTokBlocked):
        return Problem(
            503,
            "tiktok-blocked",
            "TikTok blocked the request",
            f"{with_retry(message, error.retry_after)} If it persists, set TIKTOK_MS_TOKEN "
            "or TIKTOK_PROXY.",
            username=username,
            headers={"Retry-After": str(error.retry_after)},
        )

    if isinstance(error, TikTokTimeout):
        fix = "" if mentions_retry(message) else " Retry later."
        return Problem(504, "tiktok-timeout", "TikTok timed out", message + fix, username=username)

    if isinstance(error, BrowserNotFound):
        # The client's message explains how to install Chromium or set TIKTOK_BROWSER_PATH.
        return Problem(
            503, "browser-not-found", "No browser to reach TikTok", message, username=username
        )

    if isinstance(error, RecordingNotFound):
        fix = (
            ""
            if "TIKTOK_RECORD" in message
            else " Record one with TIKTOK_RECORD, or unset TIKTOK_CASSETTES to reach TikTok."
        )
        return Problem(
            502,
            "recording-not-found",
            "No recording for this request",
            message + fix,
            username=username,
        )

    # A TikTokError subclass added later without its own mapping: treat it as unavailable.
    return Problem(
        503,
        "tiktok-unavailable",
        "TikTok is unavailable",
        with_retry(message, DEFAULT_RETRY_AFTER),
        username=username,
        headers={"Retry-After": str(DEFAULT_RETRY_AFTER)},
    )


def mentions_retry(message: str) -> bool:
    """Return whether a client's message already asks the caller to retry."""
    return "retry" in message.lower()


def with_retry(message: str, retry_after: int) -> str:
    """Append "Retry after N seconds." to `message` unless it already gives a retry time."""
    if mentions_retry(message):
        return message
    return f"{message} Retry after {plural(retry_after, 'second')}."


def is_connection_error(error: Exception) -> bool:
    """Return whether a database error means the database cannot be reached."""
    if isinstance(error, PoolTimeoutError | Pg8000InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return False


def nothing_stored() -> str:
    """Return ", so nothing was stored" for a POST, the only method that stores, else ""."""
    return ", so nothing was stored" if request.method == "POST" else ""


def database_unavailable_problem() -> Problem:
    """Return the problem for a database that cannot be reached."""
    return Problem(
        503,
        "database-unavailable",
        "Database unavailable",
        f"The database cannot be reached{nothing_stored()}. Retry in a few seconds.",
    )


def database_not_migrated_problem() -> Problem:
    """Return the problem for a database whose tables are missing or out of date."""
    return Problem(
        503,
        "database-not-migrated",
        "Database not migrated",
        "The database has no tables for this service yet, or an older version of them"
        f"{nothing_stored()}. An operator must migrate the database in DATABASE_URL with "
        f"`{MIGRATE_COMMAND}` or `make migrate`, or, on AWS Lambda, by invoking the "
        f"function with {LAMBDA_MIGRATE_EVENT}; then retry.",
    )


def internal_error_problem() -> Problem:
    """Return the problem for an unexpected failure; its details go to the log only."""
    return Problem(
        500,
        "internal-error",
        "Internal server error",
        f"The server failed to handle the request{nothing_stored()}. The error is logged.",
    )


def handle_problem(problem: Problem) -> Response:
    logger.info(
        "%s %s returned %s %s: %s",
        request.method,
        quote_value(request.path),
        problem.status,
        problem.slug,
        printable(problem.detail),
    )
    return problem_response(problem)


def handle_http_exception(error: HTTPException) -> Response:
    problem = http_exception_problem(error)
    if problem.status >= 500:
        logger.error("%s %s failed: %s", request.method, quote_value(request.path), error)
    return handle_problem(problem)


def handle_tiktok_error(error: TikTokError) -> Response:
    logger.warning(
        "Collecting username %s failed with %s: %s",
        quote_value(error.username),
        type(error).__name__,
        printable(error.message),
    )
    return problem_response(tiktok_problem(error))


def handle_database_error(error: Exception) -> Response:
    if is_missing_schema_error(error):
        forget_schema_check()
        logger.error(
            "Database schema is missing a table or column during %s %s; run `%s` or, on "
            "AWS Lambda, invoke the function with %s: %s",
            request.method,
            quote_value(request.path),
            MIGRATE_COMMAND,
            LAMBDA_MIGRATE_EVENT,
            error,
        )
        return problem_response(database_not_migrated_problem())

    if is_connection_error(error):
        logger.error(
            "Database unreachable during %s %s: %s",
            request.method,
            quote_value(request.path),
            error,
        )
        return problem_response(database_unavailable_problem())

    return handle_unexpected_error(error)


def handle_unexpected_error(error: Exception) -> Response:
    logger.exception("Unhandled error during %s %s", request.method, quote_value(request.path))
    return problem_response(internal_error_problem())


def init_app(app: Flask) -> None:
    """Register the problem+json handlers for every error the app can raise."""
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(TikTokError, handle_tiktok_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeoutError, handle_database_error)
    app.register_error_handler(Pg8000InterfaceError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)
