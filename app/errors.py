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
        """Return the problem details object of RFC 9457."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            # The path as the client sent it, with any prefix a proxy or API stage strips
            # into SCRIPT_NAME.
            "instance": request.script_root + request.path,
        }
        if self.username is not None:
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
            f"No resource at {request.path}. The API serves POST /tiktok_users and "
            "GET /tiktok_users/<username or numeric id>."
        )
    elif status == 405:
        allowed = headers.get("Allow", "")
        detail = f"{request.method} is not allowed on {request.path}; use one of: {allowed}."
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
    """Translate a TikTok client error into a problem that names the username and the fix."""
    username = error.username

    if isinstance(error, AccountNotFound):
        return Problem(
            404,
            "account-not-found",
            "TikTok account not found",
            f"TikTok has no account named '{username}' (it does not exist or was banned); "
            "check the spelling.",
            username=username,
        )

    if isinstance(error, UsernameRejected):
        return Problem(
            422,
            "invalid-username",
            "Invalid TikTok username",
            f"The username {username!r} is invalid: {error.message}.",
            username=username,
        )

    if isinstance(error, TikTokUnavailable):
        return Problem(
            503,
            "tiktok-unavailable",
            "TikTok is unavailable",
            f"Collecting '{username}' failed: {error.message}. "
            f"Retry after {error.retry_after} seconds.",
            username=username,
            headers={"Retry-After": str(error.retry_after)},
        )

    if isinstance(error, TikTokBlocked):
        return Problem(
            503,
            "tiktok-blocked",
            "TikTok blocked the request",
            f"TikTok answered the request for '{username}' with bot detection "
            f"({error.message}). Retry after {error.retry_after} seconds; if it persists, "
            "set TIKTOK_MS_TOKEN or TIKTOK_PROXY.",
            username=username,
            headers={"Retry-After": str(error.retry_after)},
        )

    if isinstance(error, TikTokTimeout):
        return Problem(
            504,
            "tiktok-timeout",
            "TikTok timed out",
            f"TikTok did not answer for '{username}' within {error.deadline:g} seconds; "
            "retry later.",
            username=username,
        )

    if isinstance(error, BrowserNotFound):
        return Problem(
            503,
            "browser-not-found",
            "No browser to reach TikTok",
            f"Collecting '{username}' needs Chromium: {error.message}",
            username=username,
        )

    if isinstance(error, RecordingNotFound):
        return Problem(
            502,
            "recording-not-found",
            "No recording for this request",
            f"Replay mode is on and cassette {error.cassette} holds no recording for "
            f"'{username}'; record one, or turn replay off by unsetting TIKTOK_CASSETTES.",
            username=username,
        )

    # A TikTokError subclass added later without its own mapping: treat it as unavailable.
    return Problem(
        503,
        "tiktok-unavailable",
        "TikTok is unavailable",
        f"Collecting '{username}' failed: {error.message}. "
        f"Retry after {DEFAULT_RETRY_AFTER} seconds.",
        username=username,
        headers={"Retry-After": str(DEFAULT_RETRY_AFTER)},
    )


def is_connection_error(error: Exception) -> bool:
    """Return whether a database error means the database cannot be reached."""
    if isinstance(error, PoolTimeoutError | Pg8000InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return False


def database_unavailable_problem() -> Problem:
    """Return the problem for a database that cannot be reached."""
    return Problem(
        503,
        "database-unavailable",
        "Database unavailable",
        "The database cannot be reached; nothing was stored. Retry in a few seconds.",
    )


def internal_error_problem() -> Problem:
    """Return the problem for an unexpected failure; its details go to the log only."""
    return Problem(
        500,
        "internal-error",
        "Internal server error",
        "The server failed to handle the request and stored nothing; the error is logged.",
    )


def handle_problem(problem: Problem) -> Response:
    logger.info(
        "%s %s returned %s %s: %s",
        request.method,
        request.path,
        problem.status,
        problem.slug,
        problem.detail,
    )
    return problem_response(problem)


def handle_http_exception(error: HTTPException) -> Response:
    problem = http_exception_problem(error)
    if problem.status >= 500:
        logger.error("%s %s failed: %s", request.method, request.path, error)
    return handle_problem(problem)


def handle_tiktok_error(error: TikTokError) -> Response:
    logger.warning(
        "Collecting username %s failed with %s: %s",
        error.username,
        type(error).__name__,
        error.message,
    )
    return problem_response(tiktok_problem(error))


def handle_database_error(error: Exception) -> Response:
    if is_connection_error(error):
        logger.error("Database unreachable during %s %s: %s", request.method, request.path, error)
        return problem_response(database_unavailable_problem())

    return handle_unexpected_error(error)


def handle_unexpected_error(error: Exception) -> Response:
    logger.exception("Unhandled error during %s %s", request.method, request.path)
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
