"""Every TikTok outcome recorded in the cassettes, through the API on Postgres.

Each test checks the status, the problem type and the database contents afterwards.
"""

from __future__ import annotations

import psutil
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.db import get_engine

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

ZG_ID = 6799838955094836230
PROBLEM = "application/problem+json"


def collect(client: FlaskClient, username: str):  # type: ignore[no-untyped-def]
    """POST a username to /tiktok_users and return the response."""
    return client.post("/tiktok_users", json={"tiktok_username": username})


@pytest.mark.parametrize(
    ("username", "problem_type"),
    [
        ("missing.account", "account-not-found"),
        ("banned.account", "account-not-found"),
    ],
)
def test_account_not_found(client: FlaskClient, stored, username: str, problem_type: str) -> None:
    response = collect(client, username)

    assert response.status_code == 404
    assert response.content_type == PROBLEM
    assert response.json["type"] == f"/problems/{problem_type}"
    assert response.json["username"] == username
    assert stored.counts() == (0, 0)


@pytest.mark.parametrize(
    "username", ["captcha.user", "empty.user.object", "html.error.user", "gnarly.blocked"]
)
def test_blocked(client: FlaskClient, stored, username: str) -> None:
    response = collect(client, username)

    assert response.status_code == 503
    assert response.content_type == PROBLEM
    assert response.json["type"] == "/problems/tiktok-blocked"
    assert response.json["username"] == username
    assert response.json["detail"].count(repr(username)) == 1
    assert int(response.headers["Retry-After"]) > 0
    assert stored.counts() == (0, 0)


def test_private_account_stored(client: FlaskClient, stored) -> None:
    response = collect(client, "private.account")
    user_id = int(response.json["id"])

    assert response.status_code == 201
    assert response.json["private_account"] is True
    assert stored.user(user_id)["private_account"] is True
    assert stored.counts() == (1, 1)


def test_profile_page_source(client: FlaskClient, stored) -> None:
    response = collect(client, "taylorswift")
    user_id = int(response.json["id"])

    assert response.status_code == 201
    assert response.json["username"] == "taylorswift"
    assert [s["source"] for s in stored.snapshots(user_id)] == ["profile_page"]
    assert stored.user(user_id)["payload"]["user"]["uniqueId"] == "taylorswift"


def test_api_source(client: FlaskClient, stored) -> None:
    collect(client, "zg.520")

    assert [s["source"] for s in stored.snapshots(ZG_ID)] == ["api"]
    assert stored.user(ZG_ID)["payload"]["statsV2"]["followerCount"] == "427682"


def test_rename_updates_row(client: FlaskClient, stored) -> None:
    collect(client, "zg.520")

    response = collect(client, "zg.renamed")

    assert response.status_code == 200
    assert response.json["id"] == str(ZG_ID)
    assert response.json["username"] == "zg.renamed"
    assert stored.counts() == (1, 2)
    assert client.get("/tiktok_users/zg.renamed").status_code == 200
    assert client.get("/tiktok_users/zg.520").status_code == 404


def test_new_account_takes_stored_username(client: FlaskClient, app: Flask, stored) -> None:
    # Account 42 was stored while it was called zg.renamed; TikTok now gives that name
    # to account 6799838955094836230.
    with app.app_context():
        engine = get_engine()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tiktok_users (id, username, sec_uid, verified, private_account, "
                "payload, first_collected_at, last_collected_at) VALUES "
                "(42, 'zg.renamed', 'MS4wLjABAAAAformer', false, false, '{}', "
                "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
            )
        )

    response = collect(client, "zg.renamed")

    assert response.status_code == 201
    assert stored.user(42)["username"] is None
    assert stored.user(ZG_ID)["username"] == "zg.renamed"
    assert client.get("/tiktok_users/zg.renamed").json["id"] == str(ZG_ID)
    assert client.get("/tiktok_users/42").json["username"] is None


def test_unrecorded_username(client: FlaskClient, stored) -> None:
    response = collect(client, "not.in.cassettes")

    assert response.status_code == 502
    assert response.json["type"] == "/problems/recording-not-found"
    assert response.json["username"] == "not.in.cassettes"
    assert stored.counts() == (0, 0)


def test_timeout_at_deadline(make_app, make_tiktok_client, stored) -> None:
    # slow.user's recording is delayed by 40 s; this client gives up after 3 s.
    client = make_app(make_tiktok_client(deadline=3)).test_client()

    response = collect(client, "slow.user")

    assert response.status_code == 504
    assert response.json["type"] == "/problems/tiktok-timeout"
    assert response.json["username"] == "slow.user"
    assert stored.counts() == (0, 0)


def test_timeout_then_next_works(make_app, make_tiktok_client, stored) -> None:
    client = make_app(make_tiktok_client(deadline=3)).test_client()
    collect(client, "slow.user")

    response = collect(client, "zg.520")

    assert response.status_code == 201
    assert stored.counts() == (1, 1)


def test_cooldown_answers_at_once(make_app, make_tiktok_client, stored) -> None:
    tiktok_client = make_tiktok_client(breaker_threshold=2, breaker_cooldown=600)
    client = make_app(tiktok_client).test_client()
    blocked = [collect(client, "captcha.user") for _ in range(2)]

    response = collect(client, "zg.520")

    assert [r.json["type"] for r in blocked] == ["/problems/tiktok-blocked"] * 2
    assert response.status_code == 503
    assert response.json["type"] == "/problems/tiktok-unavailable"
    assert 0 < int(response.headers["Retry-After"]) <= 600
    assert stored.counts() == (0, 0)


def chromium_processes() -> set[int]:
    """Return the ids of the Chromium processes started by this test process."""
    return {
        child.pid
        for child in psutil.Process().children(recursive=True)
        if "chrom" in child.name().lower()
    }


def test_browser_crash_then_recovers(make_app, make_tiktok_client, stored) -> None:
    before = chromium_processes()
    tiktok_client = make_tiktok_client()
    client = make_app(tiktok_client).test_client()
    assert collect(client, "zg.520").status_code == 201

    launched = chromium_processes() - before
    for pid in launched:
        psutil.Process(pid).kill()
    psutil.wait_procs([psutil.Process(pid) for pid in launched if psutil.pid_exists(pid)])

    crashed = collect(client, "zg.520")
    recovered = collect(client, "zg.520")

    assert launched
    assert crashed.status_code == 503
    assert crashed.json["type"] == "/problems/tiktok-unavailable"
    assert "Retry-After" in crashed.headers
    assert recovered.status_code == 200
    assert tiktok_client.launch_count == 2
    assert stored.counts() == (1, 2)


def test_browser_not_found(make_app, make_tiktok_client, stored) -> None:
    tiktok_client = make_tiktok_client(browser_path="/nonexistent/chromium")
    client = make_app(tiktok_client).test_client()

    response = collect(client, "zg.520")

    assert response.status_code == 503
    assert response.json["type"] == "/problems/browser-not-found"
    assert "TIKTOK_BROWSER_PATH" in response.json["detail"]
    assert stored.counts() == (0, 0)
