"""Storing collected profiles: upsert by id, snapshots, renames, one transaction per collection."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app.collection import is_race, store_profile
from app.db import get_session
from app.tiktok.profile import Profile

ZG_ID = "6799838955094836230"


def make_profile(**changes: object) -> Profile:
    """Return the zg.520 profile with the counts of its real statsV2, changed by `changes`."""
    profile = Profile(
        user_id=ZG_ID,
        username="zg.520",
        sec_uid="MS4wLjABAAAAkagks5n_8XDIMWf94LZDUYs54FG5bJmEFJkWtjA__uRUN8QWaavHhzSyEO6WBPQj",
        nickname="小邹旅行🇨🇳",
        bio="bio",
        avatar_url="https://p16-common-sign.tiktokcdn-us.com/avatar.jpeg",
        bio_link=None,
        verified=False,
        private_account=False,
        region=None,
        language=None,
        created_at=datetime(2020, 3, 1, 12, 0, tzinfo=UTC),
        follower_count=427682,
        following_count=176,
        like_count=6764096,
        video_count=1605,
        digg_count=0,
        friend_count=53,
        source="api",
        payload={
            "user": {"id": ZG_ID, "nickname": "小邹旅行🇨🇳"},
            "statsV2": {"followerCount": "427682"},
        },
    )
    return replace(profile, **changes)  # type: ignore[arg-type]


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The app's session inside an app context."""
    with app.app_context():
        yield get_session()


def test_store_new_account(session: Session, stored) -> None:
    collection = store_profile(session, make_profile())

    assert collection.created
    assert collection.user.id == int(ZG_ID)
    assert collection.user.first_collected_at == collection.collected_at
    assert collection.user.last_collected_at == collection.collected_at
    assert stored.counts() == (1, 1)


def test_store_typed_columns(session: Session, stored) -> None:
    store_profile(session, make_profile())
    row = stored.user(int(ZG_ID))

    assert row["username"] == "zg.520"
    assert row["nickname"] == "小邹旅行🇨🇳"
    assert row["follower_count"] == 427682
    assert row["created_at"] == datetime(2020, 3, 1, 12, 0, tzinfo=UTC)
    assert row["payload"]["statsV2"] == {"followerCount": "427682"}


def test_store_again_refreshes(session: Session, stored) -> None:
    first = store_profile(session, make_profile())
    second = store_profile(session, make_profile(follower_count=427700, bio="new bio"))
    row = stored.user(int(ZG_ID))

    assert not second.created
    assert row["first_collected_at"] == first.collected_at
    assert row["last_collected_at"] == second.collected_at
    assert row["follower_count"] == 427700
    assert row["bio"] == "new bio"
    assert stored.counts() == (1, 2)


def test_snapshots_keep_history(session: Session, stored) -> None:
    store_profile(session, make_profile(follower_count=1))
    store_profile(session, make_profile(follower_count=2, source="profile_page"))
    snapshots = stored.snapshots(int(ZG_ID))

    assert [s["follower_count"] for s in snapshots] == [1, 2]
    assert [s["source"] for s in snapshots] == ["api", "profile_page"]


def test_counts_exceed_32_bits(session: Session, stored) -> None:
    # statsV2.heartCount has been seen at 11,907,467,940 while stats wrapped to a negative.
    store_profile(session, make_profile(like_count=11_907_467_940, follower_count=2**63 - 1))
    row = stored.user(int(ZG_ID))

    assert row["like_count"] == 11_907_467_940
    assert row["follower_count"] == 2**63 - 1


def test_missing_counts_stored_null(session: Session, stored) -> None:
    store_profile(session, make_profile(follower_count=None, digg_count=None))
    snapshot = stored.snapshots(int(ZG_ID))[0]

    assert snapshot["follower_count"] is None
    assert snapshot["digg_count"] is None


def test_rename_updates_row(session: Session, stored) -> None:
    store_profile(session, make_profile())
    store_profile(session, make_profile(username="zg.renamed"))

    assert stored.user(int(ZG_ID))["username"] == "zg.renamed"
    assert stored.counts() == (1, 2)


def test_username_taken_by_other_account(session: Session, stored) -> None:
    store_profile(session, make_profile(username="shared.name"))
    store_profile(
        session,
        make_profile(
            user_id="7000000000000000001", sec_uid="MS4wLjABAAAAother", username="shared.name"
        ),
    )

    assert stored.user(int(ZG_ID))["username"] is None
    assert stored.user(7000000000000000001)["username"] == "shared.name"


def test_usernames_swapped(session: Session, stored) -> None:
    other = {"user_id": "7000000000000000001", "sec_uid": "MS4wLjABAAAAother"}
    store_profile(session, make_profile(username="first.name"))
    store_profile(session, make_profile(username="second.name", **other))

    store_profile(session, make_profile(username="second.name"))
    store_profile(session, make_profile(username="first.name", **other))

    assert stored.user(int(ZG_ID))["username"] == "second.name"
    assert stored.user(7000000000000000001)["username"] == "first.name"


def test_username_stored_lowercase(session: Session, stored) -> None:
    store_profile(session, make_profile(username="ZG.520"))

    assert stored.user(int(ZG_ID))["username"] == "zg.520"


def test_failed_snapshot_stores_nothing(
    session: Session, stored, failing_snapshot_insert: None
) -> None:
    with pytest.raises(DBAPIError):
        store_profile(session, make_profile())

    assert stored.counts() == (0, 0)


def test_failed_snapshot_keeps_old_row(
    session: Session, stored, request: pytest.FixtureRequest
) -> None:
    store_profile(session, make_profile())
    before = stored.dump()
    request.getfixturevalue("failing_snapshot_insert")

    with pytest.raises(DBAPIError):
        store_profile(session, make_profile(username="zg.renamed", follower_count=1))

    assert stored.dump() == before


def test_is_race_postgres_unique_violation() -> None:
    error = IntegrityError("INSERT", {}, Exception({"C": "23505", "M": "duplicate key"}))

    assert is_race(error)


def test_is_race_sqlite_unique_violation() -> None:
    error = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: tiktok_users.id"))

    assert is_race(error)


def test_is_race_foreign_key_violation() -> None:
    error = IntegrityError("INSERT", {}, Exception({"C": "23503", "M": "foreign key"}))

    assert not is_race(error)


def test_is_race_serialization_failure() -> None:
    error = DBAPIError("UPDATE", {}, Exception({"C": "40001", "M": "could not serialize"}))

    assert is_race(error)


def test_is_race_other_error() -> None:
    error = DBAPIError("UPDATE", {}, Exception({"C": "22003", "M": "out of range"}))

    assert not is_race(error)
