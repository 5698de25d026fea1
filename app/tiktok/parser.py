"""Parse TikTok's user payloads into a Profile and classify the bodies that carry none.

Pure functions: no TikTokApi, no browser. Two payloads carry a user:
- the body of `GET https://www.tiktok.com/api/user/detail/` (the API source);
- the `webapp.user-detail` object that a profile page `https://www.tiktok.com/@<username>`
  embeds in its `__UNIVERSAL_DATA_FOR_REHYDRATION__` script (the profile-page source).
Both have the same shape: `statusCode` and `userInfo` with `user`, `stats` and, in newer
bodies, `statsV2`. Branch on codes only: `statusMsg` is empty in every body seen.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from app.tiktok.profile import Profile, ProfileSource

# TikTok statusCode values for a user lookup.
STATUS_OK = 0
STATUS_NOT_FOUND = 10221  # no such account (also seen for banned ones)
STATUS_BANNED = 10202  # account banned
STATUS_PRIVATE = 10222  # private account: the user object is there, counts may read 0
NOT_FOUND_CODES = frozenset({STATUS_NOT_FOUND, STATUS_BANNED})

# TikTok's bot check returns `{"code": "10000", "type": "verify", ...}` instead of data.
CAPTCHA_CODE = "10000"
CAPTCHA_TYPE = "verify"

# Reasons for the bodies that carry no JSON user. TikTok also serves HTML when it blocks,
# so a body that is not JSON counts as a block, but its reason names no cause.
EMPTY_BODY = "an empty body (TikTok sends one when it detects automation)"
NOT_JSON_BODY = "a body that is not JSON (an HTML error page or a block page)"

REHYDRATION_SCRIPT_ID = "__UNIVERSAL_DATA_FOR_REHYDRATION__"
DEFAULT_SCOPE_KEY = "__DEFAULT_SCOPE__"
USER_DETAIL_KEY = "webapp.user-detail"

_REHYDRATION_SCRIPT = re.compile(
    r"<script[^>]*\bid=[\"']" + REHYDRATION_SCRIPT_ID + r"[\"'][^>]*>(.*?)</script>",
    re.DOTALL | re.IGNORECASE,
)

# Counts are 64-bit on TikTok's side: like counts pass 2^32 and ids pass 2^53.
_INT64_MAX = 2**63 - 1

# Profile count field -> TikTok's key in `statsV2` and `stats`.
_COUNT_KEYS = {
    "follower_count": "followerCount",
    "following_count": "followingCount",
    "like_count": "heartCount",
    "video_count": "videoCount",
    "digg_count": "diggCount",
    "friend_count": "friendCount",
}


class PayloadError(ValueError):
    """A TikTok body that carries no usable user.

    `reason` is a noun phrase for what TikTok sent instead, such as "a captcha", written
    to follow "TikTok answered the user-detail request for 'zg.520' with".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AccountMissing(PayloadError):
    """TikTok stated that the account does not exist or was banned."""


class PayloadBlocked(PayloadError):
    """TikTok sent bot detection or a body without a usable user object."""


def parse_user_detail(body: object, source: ProfileSource) -> Profile:
    """Parse a user-detail body (dict, JSON text or None) into a Profile.

    Raises AccountMissing for statusCode 10221 or 10202 or an empty `userInfo`, and
    PayloadBlocked for a captcha, an empty body, a body that is not JSON, or a user
    object without id, uniqueId or secUid. A private account (10222) parses normally.
    """
    data = _as_object(body)

    if _is_captcha(data):
        raise PayloadBlocked("a captcha")

    status_code = _status_code(data)
    status = f"statusCode {status_code}" if status_code is not None else "no statusCode"
    if status_code in NOT_FOUND_CODES:
        raise AccountMissing(status)

    user_info = data.get("userInfo")
    if user_info == {}:
        raise AccountMissing(f"an empty userInfo ({status})")
    if not isinstance(user_info, dict):
        raise PayloadBlocked(f"a body without a userInfo object ({status})")

    user = user_info.get("user")
    if user == {}:
        raise PayloadBlocked(f"an empty user object ({status})")
    if not isinstance(user, dict) or not user.get("id"):
        raise PayloadBlocked(f"a user object without an id ({status})")
    for key in ("uniqueId", "secUid"):
        if not isinstance(user.get(key), str) or not user[key]:
            raise PayloadBlocked(f"a user object without a {key} ({status})")

    counts = _counts(user_info)
    private_account = bool(user.get("privateAccount")) or status_code == STATUS_PRIVATE

    return Profile(
        user_id=str(user["id"]),
        username=user["uniqueId"],
        sec_uid=user["secUid"],
        nickname=_optional_text(user.get("nickname")),
        bio=_optional_text(user.get("signature")),
        avatar_url=_avatar_url(user),
        bio_link=_bio_link(user),
        verified=bool(user.get("verified")),
        private_account=private_account,
        region=_optional_text(user.get("region")) or None,
        language=_optional_text(user.get("language")) or None,
        created_at=_created_at(user.get("createTime")),
        source=source,
        payload=user_info,
        **counts,
    )


def extract_user_detail(html: str) -> dict[str, Any]:
    """Return `__DEFAULT_SCOPE__["webapp.user-detail"]` from a profile page's HTML.

    Raises PayloadBlocked when the page is a captcha, has no rehydration script, or the
    script carries no user detail (TikTok serves its bare app shell to suspected bots).
    """
    match = _REHYDRATION_SCRIPT.search(html)
    if match is None:
        if _is_captcha(_try_json(html)):
            raise PayloadBlocked("a captcha")
        raise PayloadBlocked(f"HTML without the {REHYDRATION_SCRIPT_ID} script")

    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError:
        raise PayloadBlocked(f"HTML whose {REHYDRATION_SCRIPT_ID} script is not JSON") from None

    scope = data.get(DEFAULT_SCOPE_KEY) if isinstance(data, dict) else None
    user_detail = scope.get(USER_DETAIL_KEY) if isinstance(scope, dict) else None
    if not isinstance(user_detail, dict):
        raise PayloadBlocked(f"HTML without the {USER_DETAIL_KEY} object")
    return user_detail


def parse_profile_page(html: str) -> Profile:
    """Parse a profile page's HTML into a Profile with source "profile_page"."""
    return parse_user_detail(extract_user_detail(html), "profile_page")


def _as_object(body: object) -> dict[str, Any]:
    if body is None or body == "" or body == b"":
        raise PayloadBlocked(EMPTY_BODY)

    if isinstance(body, str | bytes):
        data = _try_json(body)
        if data is None:
            raise PayloadBlocked(NOT_JSON_BODY)
        body = data

    if not isinstance(body, dict):
        raise PayloadBlocked(f"JSON that is not an object ({type(body).__name__})")
    if not body:
        raise PayloadBlocked("an empty JSON object")
    return body


def _try_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _is_captcha(data: object) -> bool:
    if not isinstance(data, dict):
        return False
    return data.get("type") == CAPTCHA_TYPE or str(data.get("code")) == CAPTCHA_CODE


def _status_code(data: dict[str, Any]) -> int | None:
    value = data.get("statusCode")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _counts(user_info: dict[str, Any]) -> dict[str, int | None]:
    """Read the counts from `statsV2` (exact, as strings), or `stats` when it is absent."""
    stats = user_info.get("statsV2")
    if not isinstance(stats, dict):
        stats = user_info.get("stats")
    if not isinstance(stats, dict):
        stats = {}

    return {field: _count(stats.get(key)) for field, key in _COUNT_KEYS.items()}


def _count(value: object) -> int | None:
    """Return a count as int, or None when it is missing, not a number or out of range.

    NOTE: a negative value is dropped rather than repaired: `stats.heartCount` has been
    seen wrapped around as a negative 32-bit integer, and the true count cannot be
    recovered from it.
    """
    if isinstance(value, bool):
        return None

    if isinstance(value, str):
        if not value.strip().isdigit():
            return None
        value = int(value)

    if not isinstance(value, int):
        return None
    if value < 0 or value > _INT64_MAX:
        return None
    return value


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _avatar_url(user: dict[str, Any]) -> str | None:
    for key in ("avatarLarger", "avatarMedium", "avatarThumb"):
        url = user.get(key)
        if isinstance(url, str) and url:
            return url
    return None


def _bio_link(user: dict[str, Any]) -> str | None:
    bio_link = user.get("bioLink")
    if isinstance(bio_link, dict) and isinstance(bio_link.get("link"), str):
        return bio_link["link"] or None
    return None


def _created_at(value: object) -> datetime | None:
    """Convert `createTime` (Unix seconds) to an aware UTC datetime; 0 means unknown."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None

    try:
        seconds = int(value)
    except ValueError:
        return None

    if seconds <= 0:
        return None

    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
