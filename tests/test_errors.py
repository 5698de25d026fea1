"""Every error is application/problem+json, and malformed requests never cause a 5xx."""

from __future__ import annotations

import itertools
import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import tiktok_problem
from app.tiktok.errors import (
    TikTokBlocked,
    TikTokError,
    TikTokTimeout,
    TikTokUnavailable,
    UsernameRejected,
)
from app.usernames import InvalidUsername, validate_username

PROBLEM = "application/problem+json"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def test_unknown_route(client: FlaskClient) -> None:
    response = client.get("/no/such/route")

    assert response.status_code == 404
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/not-found"
    assert response.json["instance"] == "/no/such/route"
    assert set(response.json) >= PROBLEM_FIELDS


def test_method_not_allowed(client: FlaskClient) -> None:
    response = client.delete("/tiktok_users/zg.520")

    assert response.status_code == 405
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/method-not-allowed"
    assert "GET" in response.headers["Allow"]
    assert "DELETE" in response.json["detail"]


def test_payload_too_large(client: FlaskClient, app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"tiktok_username": "a" * limit})

    response = client.post("/tiktok_users", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/payload-too-large"
    assert str(limit) in response.json["detail"]


def test_unsupported_media_type(client: FlaskClient) -> None:
    response = client.post("/tiktok_users", data="tiktok_username=zg.520")

    assert response.status_code == 415
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/unsupported-media-type"


def test_malformed_json(client: FlaskClient) -> None:
    response = client.post("/tiktok_users", data="{", content_type="application/json")

    assert response.status_code == 400
    assert response.json["type"] == "/problems/invalid-request"


@pytest.mark.parametrize("body", [[], ["zg.520"], "zg.520", 1, None, True])
def test_body_not_object(client: FlaskClient, body: object) -> None:
    response = client.post("/tiktok_users", data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert response.json["type"] == "/problems/invalid-request"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "tiktok_username"),
        ({"username": "zg.520"}, "tiktok_username"),
        ({"tiktok_username": 520}, "tiktok_username"),
        ({"tiktok_username": None}, "tiktok_username"),
        ({"tiktok_username": ["zg.520"]}, "tiktok_username"),
        ({"tiktok_username": "zg.520", "force": True}, "force"),
    ],
)
def test_invalid_fields(client: FlaskClient, body: dict[str, object], field: str) -> None:
    response = client.post("/tiktok_users", json=body)

    assert response.status_code == 422
    assert response.json["type"] == "/problems/invalid-request"
    assert field in response.json["detail"]


def test_invalid_username(client: FlaskClient) -> None:
    response = client.post("/tiktok_users", json={"tiktok_username": "zg-520"})

    assert response.status_code == 422
    assert response.json["type"] == "/problems/invalid-username"
    assert response.json["username"] == "zg-520"
    assert "'zg-520'" in response.json["detail"]


def test_internal_error(app: Flask) -> None:
    def fail() -> str:
        raise RuntimeError("broken on purpose")

    app.add_url_rule("/fail", view_func=fail)

    response = app.test_client().get("/fail")

    assert response.status_code == 500
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/internal-error"
    assert "broken on purpose" not in response.json["detail"]


# Bodies sent as JSON that are wrong in shape, in type, or in the username itself. None
# of them may reach TikTok, so none may hold a username that passes validation.
MALFORMED_BODIES: list[bytes] = [
    b"",
    b" ",
    b"{",
    b"}",
    b"[",
    b"{'tiktok_username': 'zg.520'}",
    b'{"tiktok_username": "zg.520",}',
    b'{"tiktok_username": zg.520}',
    b"null",
    b"true",
    b"0",
    b"-1e999",
    b"[]",
    b'["zg.520"]',
    b'"zg.520"',
    b"{}",
    b'{"tiktok_username": null}',
    b'{"tiktok_username": 520}',
    b'{"tiktok_username": 1.5}',
    b'{"tiktok_username": true}',
    b'{"tiktok_username": []}',
    b'{"tiktok_username": {}}',
    b'{"tiktok_username": {"$ne": ""}}',
    b'{"TIKTOK_USERNAME": "zg.520"}',
    b'{"username": "zg.520"}',
    b'{"tiktok_username": "zg.520", "extra": 1}',
    b'{"tiktok_username": ""}',
    b'{"tiktok_username": "   "}',
    b'{"tiktok_username": "@"}',
    b'{"tiktok_username": "@@zg.520"}',
    b'{"tiktok_username": "a"}',
    b'{"tiktok_username": "' + b"a" * 31 + b'"}',
    b'{"tiktok_username": "zg 520"}',
    b'{"tiktok_username": "zg-520"}',
    b'{"tiktok_username": "zg/520"}',
    b'{"tiktok_username": "../../etc/passwd"}',
    b'{"tiktok_username": "zg.520?x=1"}',
    b'{"tiktok_username": "zg.520#x"}',
    b'{"tiktok_username": "zg.520\'; DROP TABLE tiktok_users; --"}',
    b'{"tiktok_username": "<script>alert(1)</script>"}',
    b'{"tiktok_username": "zg\\u0000520"}',
    b'{"tiktok_username": "zg\\ud800520"}',
    b'{"tiktok_username": "\\u212aelvin"}',
    b'{"tiktok_username": "zg.520\\u200b"}',
    '{"tiktok_username": "小邹旅行"}'.encode(),
    '{"tiktok_username": "zg.520🇨🇳"}'.encode(),
    b'{"tiktok_username": "zg.520\\n"}' + b"x",
    b"\xff\xfe\x00\x00",
    b'\xef\xbb\xbf{"tiktok_username": "zg-520"}',
    b"[" * 500 + b"]" * 500,
    b'{"tiktok_username": "' + b"\\u0061" * 40 + b'"}',
]

JSON_TYPES = ["application/json", "application/json; charset=utf-8", "application/merge+json"]
OTHER_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]

MALFORMED_REFS = [
    "a",
    "@",
    "@@zg.520",
    "%40%40x",
    "x" * 31,
    "zg-520",
    "zg%20520",
    "%20",
    "zg.520%00",
    "%3Cscript%3E",
    "%E2%98%83",
    "%F0%9F%87%A8%F0%9F%87%B3",
    "..",
    "%2e%2e",
    "-1",
    "1" * 40,
    "9223372036854775808",
    "0",
    "nobody.here",
    "@nobody.here",
    "zg.520'--",
    "%ff",
]


def malformed_requests() -> list[tuple[str, str, dict[str, object]]]:
    """Return (method, path, keyword arguments) for every malformed request."""
    requests: list[tuple[str, str, dict[str, object]]] = []

    for content_type, body in itertools.product(JSON_TYPES + OTHER_TYPES, MALFORMED_BODIES):
        requests.append(("POST", "/tiktok_users", {"data": body, "content_type": content_type}))

    for ref, suffix in itertools.product(MALFORMED_REFS, ["", "/snapshots"]):
        requests.append(("GET", f"/tiktok_users/{ref}{suffix}", {}))

    for method, path in itertools.product(
        ["PUT", "PATCH", "DELETE"], ["/tiktok_users", "/tiktok_users/zg.520"]
    ):
        requests.append((method, path, {"json": {"tiktok_username": "zg.520"}}))

    requests.append(("POST", "/tiktok_users/zg.520", {"json": {"tiktok_username": "zg.520"}}))
    requests.append(("GET", "/tiktok_users", {}))
    requests.append(("GET", "/tiktok_users/zg.520/snapshots/1", {}))
    return requests


def test_malformed_request_count() -> None:
    assert len(malformed_requests()) >= 200


def test_malformed_requests_change_nothing(
    client: FlaskClient, stored, tiktok_client: object
) -> None:
    assert client.post("/tiktok_users", json={"tiktok_username": "zg.520"}).status_code == 201
    before = stored.dump()
    launches = tiktok_client.launch_count  # type: ignore[attr-defined]

    statuses = []
    for method, path, arguments in malformed_requests():
        response = client.open(path, method=method, **arguments)
        statuses.append((method, path, arguments.get("data"), response.status_code))

        assert response.status_code < 500, (method, path, arguments)
        assert response.content_type == PROBLEM, (method, path, arguments)

    assert stored.dump() == before
    assert tiktok_client.launch_count == launches  # type: ignore[attr-defined]
    assert {status for *_, status in statuses} <= {400, 404, 405, 413, 415, 422}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=12,
)


def rejected_by_validation(value: object) -> bool:
    """Return whether `value` would not pass as a username string."""
    if not isinstance(value, str):
        return True
    try:
        validate_username(value)
    except InvalidUsername:
        return True
    return False


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=json_values
    | st.dictionaries(
        st.sampled_from(["tiktok_username", "extra"]), json_values, min_size=1, max_size=2
    ).filter(lambda body: rejected_by_validation(body.get("tiktok_username")))
)
def test_generated_bodies_rejected(client: FlaskClient, body: object) -> None:
    only_username = isinstance(body, dict) and set(body) == {"tiktok_username"}
    expected = {422} if only_username else {400, 422}

    response = client.post("/tiktok_users", data=json.dumps(body), content_type="application/json")

    assert response.status_code in expected
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (UsernameRejected("zg-520", "invalid characters"), 422, "invalid-username"),
        (TikTokError("zg.520", "a failure without its own type"), 503, "tiktok-unavailable"),
        (TikTokUnavailable("zg.520", "cool-down", 42), 503, "tiktok-unavailable"),
        (TikTokBlocked("zg.520", "captcha", 60), 503, "tiktok-blocked"),
        (TikTokTimeout("zg.520", "slow", 25.0), 504, "tiktok-timeout"),
    ],
)
def test_tiktok_error_mapping(app: Flask, error: TikTokError, status: int, slug: str) -> None:
    with app.test_request_context("/tiktok_users", method="POST"):
        problem = tiktok_problem(error)

    assert problem.status == status
    assert problem.slug == slug
    assert problem.username == error.username


def test_retry_after_from_error(app: Flask) -> None:
    with app.test_request_context("/tiktok_users", method="POST"):
        problem = tiktok_problem(TikTokUnavailable("zg.520", "cool-down", 42))

    assert problem.headers["Retry-After"] == "42"


def test_instance_keeps_script_root(client: FlaskClient) -> None:
    response = client.get("/tiktok_users/nobody.here", base_url="http://localhost/prod")

    assert response.json["instance"] == "/prod/tiktok_users/nobody.here"


def test_double_slash_not_redirected(client: FlaskClient) -> None:
    response = client.get("/tiktok_users//zg.520")

    assert response.status_code == 404
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/not-found"
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/no/such%0aINFO app: forged line",
        "/no/such%0d%0aforged",
        "/no/such%00binary",
        "/tiktok_users/zg%0a520",
        "/tiktok_users/zg%00520/snapshots",
        "/tiktok_users/zg%e2%80%ae520",
    ],
)
def test_log_escapes_path(client: FlaskClient, caplog: pytest.LogCaptureFixture, path: str) -> None:
    caplog.set_level(logging.INFO, logger="app")

    response = client.get(path)
    messages = [record.getMessage() for record in caplog.records]

    assert response.status_code in {404, 422}
    assert messages
    assert all(message.isprintable() for message in messages)


def test_log_escapes_field_name(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app")

    response = client.post(
        "/tiktok_users", json={"tiktok_username": "zg.520", "x\nINFO forged\x00": 1}
    )
    messages = [record.getMessage() for record in caplog.records]

    assert response.status_code == 422
    assert all(message.isprintable() for message in messages)


def test_long_ref_not_echoed(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app")
    ref = "a" * 60_000

    response = client.get(f"/tiktok_users/{ref}")

    assert response.status_code == 422
    assert len(response.data) < 1000
    assert "(60000 characters)" in response.json["detail"]
    assert "username" not in response.json
    assert "instance" not in response.json
    assert max(len(record.getMessage()) for record in caplog.records) < 1000


def test_long_username_not_echoed(client: FlaskClient) -> None:
    username = "b" * 3000

    response = client.post("/tiktok_users", json={"tiktok_username": username})

    assert response.status_code == 422
    assert len(response.data) < 1000
    assert "(3000 characters)" in response.json["detail"]
    assert "username" not in response.json


def test_short_invalid_username_echoed(client: FlaskClient) -> None:
    username = "c" * 64

    response = client.post("/tiktok_users", json={"tiktok_username": username})

    assert response.json["username"] == username
    assert repr(username) in response.json["detail"]


@pytest.mark.parametrize(
    ("error", "repeated"),
    [
        (
            TikTokUnavailable(
                "zg.520",
                "TikTok blocked the last 5 requests, so the client pauses calls to TikTok; "
                "retry 'zg.520' in 58 s",
                58,
            ),
            "retry",
        ),
        (
            TikTokBlocked(
                "captcha.user",
                "TikTok answered the user-detail request for 'captcha.user' with a captcha",
                60,
            ),
            "captcha.user",
        ),
        (
            UsernameRejected("zg-520", str(InvalidUsername("zg-520", "invalid characters"))),
            "zg-520",
        ),
        (TikTokTimeout("slow.user", "TikTok did not answer for 'slow.user' in 25 s", 25), "slow"),
    ],
)
def test_tiktok_detail_not_repeated(app: Flask, error: TikTokError, repeated: str) -> None:
    with app.test_request_context("/tiktok_users", method="POST"):
        problem = tiktok_problem(error)

    assert problem.detail.lower().count(repeated) == 1


def test_tiktok_detail_starts_with_message(app: Flask) -> None:
    message = "TikTok answered the user-detail request for 'captcha.user' with a captcha"

    with app.test_request_context("/tiktok_users", method="POST"):
        problem = tiktok_problem(TikTokBlocked("captcha.user", message, 60))

    assert problem.detail.startswith(f"{message}. Retry after 60 seconds.")


def test_retry_after_one_second(app: Flask) -> None:
    with app.test_request_context("/tiktok_users", method="POST"):
        problem = tiktok_problem(TikTokUnavailable("zg.520", "the browser died", 1))

    assert problem.detail == "The browser died. Retry after 1 second."
