"""The typed TikTok profile that the client returns, parsed from TikTok's user payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ProfileSource = Literal["api", "profile_page"]


@dataclass(frozen=True)
class Profile:
    """One TikTok account as collected at one moment."""

    user_id: str
    username: str
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
    follower_count: int | None
    following_count: int | None
    like_count: int | None
    video_count: int | None
    digg_count: int | None
    friend_count: int | None
    source: ProfileSource
    payload: dict[str, Any] = field(repr=False)
