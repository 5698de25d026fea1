"""Normalise and validate TikTok usernames before they reach TikTok or the database."""

from __future__ import annotations

import re

# TikTok's in-app rule for setting a username: 2 to 24 characters, each a letter, a
# digit, an underscore or a period ("Only letters, numbers, underscores, or periods are
# allowed"). TikTok serves usernames back in lowercase, so lookups fold case.
USERNAME_MIN_LENGTH = 2
USERNAME_MAX_LENGTH = 24
USERNAME_PATTERN = re.compile(r"[a-z0-9_.]+", re.ASCII)

# TikTok user ids are decimal strings of a signed 64-bit integer (old accounts have
# short ids, new ones 19 digits).
USER_ID_PATTERN = re.compile(r"[0-9]{1,19}", re.ASCII)


class InvalidUsername(ValueError):
    """A username that TikTok would never accept, with the reason in plain words."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"invalid TikTok username {value!r}: {reason}")
        self.value = value
        self.reason = reason


def normalize_username(value: str) -> str:
    """Return the canonical form of a typed username: stripped, without '@', lowercase."""
    username = value.strip()
    username = username.removeprefix("@")
    return username.lower()


def validate_username(value: str) -> str:
    """Normalise `value` and raise InvalidUsername unless TikTok's rule admits it."""
    username = normalize_username(value)

    if not username:
        raise InvalidUsername(value, "it is empty; send a username such as 'realmadrid'")

    if len(username) < USERNAME_MIN_LENGTH or len(username) > USERNAME_MAX_LENGTH:
        raise InvalidUsername(
            value,
            f"it has {len(username)} characters, but TikTok usernames have "
            f"{USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH}",
        )

    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidUsername(
            value,
            "TikTok usernames contain only letters, digits, '_' and '.' "
            "(an optional leading '@' is removed)",
        )

    return username


def is_user_id(reference: str) -> bool:
    """Return whether a path reference has the shape of a numeric TikTok user id."""
    return USER_ID_PATTERN.fullmatch(reference) is not None and int(reference) < 2**63
