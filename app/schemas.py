"""Request and response bodies of the users API, kept apart from the database models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models import TikTokUser, UserSnapshot


class CollectRequest(BaseModel):
    """Body of POST /tiktok_users; unknown fields are rejected so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", strict=True)

    tiktok_username: str = Field(description="TikTok username, with or without a leading '@'.")


class Stats(BaseModel):
    """An account's counts, exact 64-bit values from TikTok's statsV2 when it was present."""

    followers: int | None
    following: int | None
    likes: int | None
    videos: int | None
    diggs: int | None
    friends: int | None

    @classmethod
    def from_row(cls, row: TikTokUser | UserSnapshot) -> Stats:
        """Build the counts from a user row or a snapshot row."""
        return cls(
            followers=row.follower_count,
            following=row.following_count,
            likes=row.like_count,
            videos=row.video_count,
            diggs=row.digg_count,
            friends=row.friend_count,
        )


class UserResource(BaseModel):
    """A stored TikTok account as the API returns it; the id is a string (it exceeds 2^53)."""

    id: str
    username: str | None
    sec_uid: str
    nickname: str | None
    bio: str | None
    avatar_url: str | None
    bio_link: str | None
    verified: bool
    private_account: bool
    region: str | None
    language: str | None
    created_at: datetime | None
    stats: Stats
    first_collected_at: datetime
    last_collected_at: datetime
    snapshot_count: int

    @classmethod
    def from_user(cls, user: TikTokUser, snapshot_count: int) -> UserResource:
        """Build the resource from a user row and the number of its snapshots."""
        return cls(
            id=str(user.id),
            username=user.username,
            sec_uid=user.sec_uid,
            nickname=user.nickname,
            bio=user.bio,
            avatar_url=user.avatar_url,
            bio_link=user.bio_link,
            verified=user.verified,
            private_account=user.private_account,
            region=user.region,
            language=user.language,
            created_at=user.created_at,
            stats=Stats.from_row(user),
            first_collected_at=user.first_collected_at,
            last_collected_at=user.last_collected_at,
            snapshot_count=snapshot_count,
        )


class SnapshotResource(BaseModel):
    """One collection of an account: when, from which TikTok source, and the counts."""

    collected_at: datetime
    source: Literal["api", "profile_page"]
    stats: Stats

    @classmethod
    def from_snapshot(cls, snapshot: UserSnapshot) -> SnapshotResource:
        """Build the resource from a snapshot row."""
        return cls(
            collected_at=snapshot.collected_at,
            source=snapshot.source,  # type: ignore[arg-type]
            stats=Stats.from_row(snapshot),
        )


class SnapshotList(BaseModel):
    """An account's snapshots, oldest first."""

    user_id: str
    snapshots: list[SnapshotResource]


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document, sent as application/problem+json for every error."""

    type: str = Field(description="Relative URI of the problem type, /problems/<slug>.")
    title: str
    status: int
    detail: str = Field(description="What failed, on which value, and how to fix it.")
    instance: str | None = Field(
        default=None,
        description="Path of the request that failed; left out when longer than 256 characters.",
    )
    username: str | None = Field(
        default=None,
        description="The TikTok username involved, when there is one and it has at most 64 "
        "characters.",
    )
