"""The users API end to end: real TikTokApi and Chromium on cassettes, SQLite and Postgres."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.db import get_engine

ZG_ID = "6799838955094836230"
ZG_FOLLOWERS = 427682


def collect(client: FlaskClient, username: str):  # type: ignore[no-untyped-def]
    """POST a username to /tiktok_users and return the response."""
    return client.post("/tiktok_users", json={"tiktok_username": username})


def test_post_new_account(client: FlaskClient, stored) -> None:
    response = collect(client, "zg.520")

    assert response.status_code == 201
    assert response.headers["Location"] == f"/tiktok_users/{ZG_ID}"
    assert response.json["id"] == ZG_ID
    assert response.json["username"] == "zg.520"
    assert response.json["stats"]["followers"] == ZG_FOLLOWERS
    assert response.json["snapshot_count"] == 1
    assert stored.counts() == (1, 1)


@pytest.mark.parametrize("ref", ["zg.520", "@ZG.520", "ZG.520", "@zg.520", ZG_ID])
def test_get_after_post(client: FlaskClient, ref: str) -> None:
    collect(client, "zg.520")

    response = client.get(f"/tiktok_users/{ref}")

    assert response.status_code == 200
    assert response.json["id"] == ZG_ID
    assert response.json["stats"]["followers"] == ZG_FOLLOWERS


def test_post_again_refreshes(client: FlaskClient, stored) -> None:
    first = collect(client, "zg.520")
    second = collect(client, "@ZG.520")

    assert second.status_code == 200
    assert "Location" not in second.headers
    assert second.json["snapshot_count"] == 2
    assert second.json["first_collected_at"] == first.json["first_collected_at"]
    assert second.json["last_collected_at"] > first.json["last_collected_at"]
    assert stored.counts() == (1, 2)


def test_resource_fields(client: FlaskClient) -> None:
    collect(client, "zg.520")

    resource = client.get(f"/tiktok_users/{ZG_ID}").json

    assert resource["sec_uid"].startswith("MS4wLjABAAAA")
    assert resource["nickname"] == "小邹旅行🇨🇳"
    assert resource["verified"] is False
    assert resource["private_account"] is False
    assert resource["stats"] == {
        "followers": 427682,
        "following": 176,
        "likes": 6764096,
        "videos": 1605,
        "diggs": 0,
        "friends": 53,
    }
    assert resource["first_collected_at"].endswith("Z")
    assert set(resource) == {
        "id",
        "username",
        "sec_uid",
        "nickname",
        "bio",
        "avatar_url",
        "bio_link",
        "verified",
        "private_account",
        "region",
        "language",
        "created_at",
        "stats",
        "first_collected_at",
        "last_collected_at",
        "snapshot_count",
    }


def test_resource_sent_as_utf8(client: FlaskClient) -> None:
    collect(client, "zg.520")

    response = client.get(f"/tiktok_users/{ZG_ID}")

    assert "小邹旅行🇨🇳".encode() in response.data
    assert b"\\u" not in response.data


def test_snapshots_listed(client: FlaskClient) -> None:
    collect(client, "zg.520")
    collect(client, "zg.520")

    response = client.get("/tiktok_users/zg.520/snapshots")

    assert response.status_code == 200
    assert response.json["user_id"] == ZG_ID
    assert len(response.json["snapshots"]) == 2
    assert response.json["snapshots"][0]["source"] == "api"
    assert response.json["snapshots"][0]["stats"]["followers"] == ZG_FOLLOWERS


@pytest.mark.parametrize("ref", ["nobody.here", "@nobody.here", "1234567", "@1234567", "7"])
def test_get_not_stored(client: FlaskClient, ref: str) -> None:
    response = client.get(f"/tiktok_users/{ref}")

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/problems/not-found"


def test_get_snapshots_not_stored(client: FlaskClient) -> None:
    response = client.get("/tiktok_users/nobody.here/snapshots")

    assert response.status_code == 404
    assert response.json["type"] == "/problems/not-found"


def test_all_digit_username(client: FlaskClient, app: Flask) -> None:
    # An account whose username is all digits: reachable as "@<digits>" and, when no
    # account has that number as its id, as "<digits>".
    with app.app_context():
        engine = get_engine()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tiktok_users (id, username, sec_uid, verified, private_account, "
                "payload, first_collected_at, last_collected_at) VALUES "
                "(42, '1234567', 'MS4wLjABAAAAdigits', false, false, '{}', "
                "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
            )
        )

    by_at = client.get("/tiktok_users/@1234567")
    by_digits = client.get("/tiktok_users/1234567")
    by_id = client.get("/tiktok_users/42")

    assert by_at.json["id"] == "42"
    assert by_digits.json["id"] == "42"
    assert by_id.json["username"] == "1234567"


def test_id_wins_over_digit_username(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        engine = get_engine()
    with engine.begin() as connection:
        for user_id, username in [(42, "1234567"), (1234567, "other.user")]:
            connection.execute(
                text(
                    "INSERT INTO tiktok_users (id, username, sec_uid, verified, "
                    "private_account, payload, first_collected_at, last_collected_at) VALUES "
                    f"({user_id}, '{username}', 'MS4wLjABAAAA{user_id}', false, false, '{{}}', "
                    "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
                )
            )

    assert client.get("/tiktok_users/1234567").json["id"] == "1234567"
    assert client.get("/tiktok_users/@1234567").json["id"] == "42"


def test_get_never_launches_browser(make_app, make_tiktok_client) -> None:
    tiktok_client = make_tiktok_client()
    client = make_app(tiktok_client).test_client()

    responses = [
        client.get("/tiktok_users/zg.520"),
        client.get(f"/tiktok_users/{ZG_ID}"),
        client.get("/tiktok_users/@ZG.520/snapshots"),
        client.get("/tiktok_users/bad%20name"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 422]
    assert tiktok_client.launch_count == 0
    assert not tiktok_client.is_running


def test_post_failed_snapshot_stores_nothing(
    client: FlaskClient, stored, failing_snapshot_insert: None
) -> None:
    response = collect(client, "zg.520")

    assert response.status_code == 500
    assert response.json["type"] == "/problems/internal-error"
    assert stored.counts() == (0, 0)


@pytest.mark.parametrize("ref", ["0" + ZG_ID, "000" + ZG_ID])
def test_get_id_with_leading_zeros(client: FlaskClient, ref: str) -> None:
    collect(client, "zg.520")

    response = client.get(f"/tiktok_users/{ref}")

    assert response.status_code == 200
    assert response.json["id"] == ZG_ID


def test_get_id_beyond_int64(client: FlaskClient) -> None:
    response = client.get("/tiktok_users/9223372036854775808")

    assert response.status_code == 404
    assert response.json["type"] == "/problems/not-found"


def test_encoded_slash_decoded(client: FlaskClient) -> None:
    # The server decodes %2F before routing, so this is the snapshots path.
    collect(client, "zg.520")

    response = client.get("/tiktok_users/zg.520%2Fsnapshots")

    assert response.status_code == 200
    assert response.json["user_id"] == ZG_ID
    assert len(response.json["snapshots"]) == 1
