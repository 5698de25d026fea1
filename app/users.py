"""The users resource: collect a TikTok account with POST, read it back with GET.

`<ref>` in a path is a username or TikTok's numeric user id:

- `@name` is always a username, even when `name` is all digits (`@123456`);
- an all-digit ref whose value fits a signed 64-bit integer (leading zeros ignored) is
  looked up as a user id first and then, when no stored account has that id, as a
  username;
- anything else is a username, matched case-insensitively after removing spaces.

Every view first checks that the database is migrated (once per process, see
`app.db.is_schema_current`), so a POST never reaches TikTok when nothing can be stored.
"""

from __future__ import annotations

import logging
import re
from typing import IO, Any

from flask import Blueprint, current_app, request, url_for
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from app import openapi, tiktok
from app.collection import count_snapshots, store_profile
from app.db import get_session, is_schema_current
from app.errors import Problem, database_not_migrated_problem, printable, quote_value
from app.models import TikTokUser, UserSnapshot
from app.schemas import CollectRequest, SnapshotList, SnapshotResource, UserResource
from app.usernames import InvalidUsername, is_user_id, validate_username

logger = logging.getLogger(__name__)

bp = Blueprint("users", __name__, url_prefix="/tiktok_users")

# RFC 9110, section 8.6: Content-Length = 1*DIGIT. Werkzeug reads any other value,
# such as "-1" or "abc", as 0, so the body would look empty.
CONTENT_LENGTH_PATTERN = re.compile(r"[0-9]+")

# Body that every collect-request detail shows as the fix.
EXAMPLE_BODY = '{"tiktok_username": "zg.520"}'


@bp.before_request
def require_migrated_database() -> None:
    """Respond with 503 database-not-migrated before any work when the schema is not current."""
    if not is_schema_current():
        raise database_not_migrated_problem()


@bp.post("")
@openapi.document_collect()
def collect_user() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Collect a TikTok account by username: 201 with Location when new, 200 when refreshed."""
    body = parse_collect_request()
    username = check_username(body.tiktok_username)

    logger.info("Collecting username %r", username)
    profile = tiktok.get_client().fetch_profile(username)

    session = get_session()
    collection = store_profile(session, profile)
    user = collection.user

    resource = UserResource.from_user(user, collection.snapshot_count)
    location = url_for("users.get_user", ref=str(user.id))

    if collection.created:
        return resource.model_dump(mode="json"), 201, {"Location": location}

    return resource.model_dump(mode="json"), 200, {"Content-Location": location}


@bp.get("/<ref>")
@openapi.document_read(UserResource)
def get_user(ref: str) -> dict[str, Any]:
    """Return a stored account by username (with or without '@', any case) or numeric id."""
    session = get_session()
    user = find_user(session, ref)

    return UserResource.from_user(user, count_snapshots(session, user.id)).model_dump(mode="json")


@bp.get("/<ref>/snapshots")
@openapi.document_read(SnapshotList)
def list_snapshots(ref: str) -> dict[str, Any]:
    """List every snapshot of a stored account's counts, oldest first."""
    session = get_session()
    user = find_user(session, ref)

    snapshots = session.scalars(
        select(UserSnapshot)
        .where(UserSnapshot.user_id == user.id)
        .order_by(UserSnapshot.collected_at, UserSnapshot.id)
    )
    resource = SnapshotList(
        user_id=str(user.id),
        snapshots=[SnapshotResource.from_snapshot(snapshot) for snapshot in snapshots],
    )
    return resource.model_dump(mode="json")


def parse_collect_request() -> CollectRequest:
    """Parse the POST body, raising a problem for each way it can be wrong."""
    if not request.is_json:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"The body has Content-Type {quote_value(request.content_type or '(none)')}; "
            'send {"tiktok_username": "<username>"} as application/json.',
        )

    try:
        return CollectRequest.model_validate_json(read_body())
    except ValidationError as error:
        raise request_problem(error) from None


def read_body() -> bytes:
    """Read the request body, raising 400 for broken framing and 413 above MAX_CONTENT_LENGTH.

    Werkzeug rejects a Content-Length above the limit, but it cuts a chunked body at the
    limit without an error. A chunked body is therefore read up to one byte past the
    limit from the server's stream, which ends where the body ends.
    """
    check_content_length()
    if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
        return request.get_data()

    limit = current_app.config["MAX_CONTENT_LENGTH"]
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0

    while size <= limit:
        chunk = read_chunk(stream, limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)

    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def check_content_length() -> None:
    """Raise a 400 problem when the Content-Length header is not a number of bytes.

    A chunked request's Content-Length is ignored, as RFC 9112 (section 6.3) requires.
    """
    value = request.headers.get("Content-Length")
    if value is None or request.content_length is None:
        return

    if not CONTENT_LENGTH_PATTERN.fullmatch(value.strip()):
        raise Problem(
            400,
            "invalid-request",
            "Invalid request",
            f"The Content-Length header {quote_value(value)} is invalid: expected the size "
            f"of the body as a number of bytes, such as {len(EXAMPLE_BODY)} for {EXAMPLE_BODY}.",
        )


def read_chunk(stream: IO[bytes], size: int) -> bytes:
    """Read up to `size` bytes of a chunked body, raising a 400 problem for broken chunks.

    Werkzeug's development server decodes chunks as the app reads them, and raises
    OSError for a chunk-size line that is not hexadecimal or a chunk without its
    line break.
    """
    try:
        return stream.read(size)
    except OSError as error:
        raise Problem(
            400,
            "invalid-request",
            "Invalid request",
            f"The chunked body is malformed ({printable(str(error))}): each chunk must be "
            "its size in hexadecimal, CRLF, the data and CRLF, and a chunk of size 0 ends "
            f"the body. Send {EXAMPLE_BODY}.",
        ) from None


def request_problem(error: ValidationError) -> Problem:
    """Translate pydantic's errors: 400 for a body that is not a JSON object, else 422."""
    first = error.errors(include_url=False)[0]
    kind = first["type"]
    field = quote_value(".".join(str(part) for part in first["loc"]))

    if kind == "json_invalid":
        return Problem(
            400,
            "invalid-request",
            "Invalid request",
            f"The body is not valid JSON ({first['msg']}); send {EXAMPLE_BODY}.",
        )
    if kind == "model_type":
        return Problem(
            400,
            "invalid-request",
            "Invalid request",
            f"The body is JSON but not an object; send {EXAMPLE_BODY}.",
        )
    if kind == "missing":
        detail = f"The field {field} is missing; send {EXAMPLE_BODY}."
    elif kind == "extra_forbidden":
        detail = f"The field {field} is not accepted; send only {EXAMPLE_BODY}."
    else:
        detail = f"The field {field} is invalid ({first['msg']}); send {EXAMPLE_BODY}."

    return Problem(422, "invalid-request", "Invalid request", detail)


def check_username(value: str) -> str:
    """Validate a requested username, raising a 422 problem with the reason."""
    try:
        return validate_username(value)
    except InvalidUsername as error:
        raise username_problem(value, error) from None


def username_problem(value: str, error: InvalidUsername) -> Problem:
    """Return the 422 problem for a username that breaks TikTok's rule."""
    return Problem(
        422,
        "invalid-username",
        "Invalid TikTok username",
        f"The username {quote_value(value)} is invalid: {error.reason}.",
        username=value,
    )


def find_user(session: Session, ref: str) -> TikTokUser:
    """Find a stored account by the path reference, raising a 404 problem when none is stored."""
    if is_user_id(ref):
        user = session.get(TikTokUser, int(ref))
        if user is not None:
            return user

    try:
        username = validate_username(ref)
    except InvalidUsername as error:
        if is_user_id(ref):
            raise not_stored_problem(ref, None) from None
        raise username_problem(ref, error) from None

    user = session.scalars(select(TikTokUser).where(TikTokUser.username == username)).first()
    if user is None:
        raise not_stored_problem(ref, username)

    return user


def not_stored_problem(ref: str, username: str | None) -> Problem:
    """Return the 404 problem for a reference that matches no stored account."""
    if username is None:
        fix = "collect the account by its username with POST /tiktok_users"
    else:
        fix = f'collect it with POST /tiktok_users {{"tiktok_username": "{username}"}}'

    return Problem(
        404,
        "not-found",
        "TikTok user not stored",
        f"No stored account has the id or username {quote_value(ref)}; {fix}.",
        username=username,
    )
