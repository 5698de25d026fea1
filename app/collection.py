"""Store one collected TikTok profile: the user row and a snapshot, in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from app.db import sqlstate
from app.models import TikTokUser, UserSnapshot
from app.tiktok.profile import Profile

logger = logging.getLogger(__name__)

# Concurrent collections of the same account can collide on the unique username or
# sec_uid before the id conflict is seen, or deadlock while one clears a username that
# another claims. Each collision is retried as a fresh transaction.
MAX_ATTEMPTS = 8

# SQLSTATE codes of Postgres statements that failed only because of a concurrent
# transaction: unique_violation, serialization_failure and deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"23505", "40001", "40P01"})

# Columns of the Counts mixin, filled from the Profile fields of the same names.
COUNT_COLUMNS = (
    "follower_count",
    "following_count",
    "like_count",
    "video_count",
    "digg_count",
    "friend_count",
)

# sqlite3 reports a unique violation only in its message text.
SQLITE_UNIQUE_VIOLATION = "UNIQUE constraint failed"


@dataclass(frozen=True)
class Collection:
    """The stored account after one collection, and whether this collection created it.

    `user` and `snapshot_count` are read inside the collection's transaction, after its
    upsert locked the user row (INSERT ... ON CONFLICT DO UPDATE holds that lock until
    commit). Concurrent collections of one account therefore take turns, and each
    counts the snapshots of those committed before it plus its own. On Postgres under
    READ COMMITTED, n concurrent collections of a new account get the counts 1 to n,
    each once. SQLite runs one write transaction at a time, so this is true there too.
    """

    user: TikTokUser
    created: bool
    collected_at: datetime
    snapshot_count: int


def store_profile(session: Session, profile: Profile) -> Collection:
    """Upsert the profile's user row and append a snapshot, retrying lost races."""
    retrying = Retrying(
        retry=retry_if_exception(is_race),
        stop=stop_after_attempt(MAX_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.05, max=1),
        before_sleep=partial(_log_retry, profile),
        reraise=True,
    )

    for attempt in retrying:
        with attempt:
            return _store_once(session, profile)

    raise AssertionError("unreachable: tenacity re-raises the last error")


def is_race(error: BaseException) -> bool:
    """Return whether `error` comes from a concurrent transaction and a retry can succeed."""
    if not isinstance(error, DBAPIError):
        return False
    if sqlstate(error) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(error, IntegrityError) and str(error.orig).startswith(SQLITE_UNIQUE_VIOLATION)


def _log_retry(profile: Profile, state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    logger.warning(
        "Storing username %r (id %s) lost a race, retrying (attempt %d of %d): %s",
        profile.username,
        profile.user_id,
        state.attempt_number + 1,
        MAX_ATTEMPTS,
        error,
    )


def _store_once(session: Session, profile: Profile) -> Collection:
    collected_at = datetime.now(UTC)
    user_id = int(profile.user_id)
    username = profile.username.lower()

    try:
        _release_username(session, username, user_id)

        first_collected_at = session.execute(
            _upsert_user(session, profile, user_id, username, collected_at)
        ).scalar_one()

        session.add(_snapshot(profile, user_id, collected_at))
        session.flush()

        snapshot_count = count_snapshots(session, user_id)
        user = session.get(TikTokUser, user_id, populate_existing=True)
        assert user is not None, "the upsert above wrote the user row"

        session.commit()
    except BaseException:
        session.rollback()
        raise

    created = first_collected_at == collected_at
    logger.info(
        "Stored username %r (id %s) from %s: %s",
        username,
        user_id,
        profile.source,
        "new account" if created else "refreshed",
    )
    return Collection(
        user=user, created=created, collected_at=collected_at, snapshot_count=snapshot_count
    )


def _release_username(session: Session, username: str, user_id: int) -> None:
    # Another stored account used to have this username and TikTok has since given it to
    # this account, so the old row gives it up.
    released = session.execute(
        update(TikTokUser)
        .where(TikTokUser.username == username, TikTokUser.id != user_id)
        .values(username=None)
        .returning(TikTokUser.id)
    ).scalars()

    for previous_id in released:
        logger.info(
            "Username %r moved from account %s to account %s", username, previous_id, user_id
        )


def _upsert_user(
    session: Session, profile: Profile, user_id: int, username: str, collected_at: datetime
) -> Insert:
    """Build INSERT ... ON CONFLICT (id) DO UPDATE, returning first_collected_at.

    first_collected_at keeps its stored value on conflict, so it equals this
    collection's timestamp only when this statement inserted the row.
    """
    values: dict[str, Any] = {
        "id": user_id,
        "username": username,
        "sec_uid": profile.sec_uid,
        "nickname": profile.nickname,
        "bio": profile.bio,
        "avatar_url": profile.avatar_url,
        "bio_link": profile.bio_link,
        "verified": profile.verified,
        "private_account": profile.private_account,
        "region": profile.region,
        "language": profile.language,
        "created_at": profile.created_at,
        **_counts(profile),
        "payload": profile.payload,
        "first_collected_at": collected_at,
        "last_collected_at": collected_at,
    }

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(TikTokUser).values(values)
    elif dialect == "sqlite":
        statement = sqlite.insert(TikTokUser).values(values)
    else:
        raise NotImplementedError(f"no upsert for the {dialect} dialect; use Postgres or SQLite")

    refreshed = {
        name: statement.excluded[name]
        for name in values
        if name not in ("id", "first_collected_at")
    }
    return statement.on_conflict_do_update(
        index_elements=[TikTokUser.id], set_=refreshed
    ).returning(TikTokUser.first_collected_at)


def _snapshot(profile: Profile, user_id: int, collected_at: datetime) -> UserSnapshot:
    return UserSnapshot(
        user_id=user_id,
        collected_at=collected_at,
        source=profile.source,
        **_counts(profile),
    )


def _counts(profile: Profile) -> dict[str, int | None]:
    return {name: getattr(profile, name) for name in COUNT_COLUMNS}


def count_snapshots(session: Session, user_id: int) -> int:
    """Return how many snapshots are stored for the account."""
    return session.execute(
        select(func.count()).select_from(UserSnapshot).where(UserSnapshot.user_id == user_id)
    ).scalar_one()
