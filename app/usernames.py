"""Normalise and validate TikTok usernames before they reach TikTok or the database."""

from __future__ import annotations

import re

# TikTok's username editor accepts letters, digits, underscores and periods ("Only
# letters, numbers, underscores, or periods are allowed") and 2 to 24 characters; some
# users report a newer maximum of 30. This service looks up existing accounts, so it
# admits up to 30 characters: a too-long name costs one not-found response, while a too
# strict rule would make a real account unreachable. The character rule is what keeps
# a username safe inside TikTok's URLs and the browser's JavaScript.
# NOTE: the 30-character maximum comes from user reports, not from TikTok's documentation.
USERNAME_MIN_LENGTH = 2
USERNAME_MAX_LENGTH = 30
# Checked before lowercasing, because str.lower() maps some non-ASCII letters to ASCII
# (the Kelvin sign U+212A becomes "k").
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.]+", re.ASCII)

# TikTok user ids are decimal strings of a signed 64-bit integer (old accounts have
# short ids, new ones 19 digits). Leading zeros do not change the id.
USER_ID_PATTERN = re.compile(r"[0-9]+", re.ASCII)
USER_ID_LIMIT = 2**63
USER_ID_MAX_DIGITS = len(str(USER_ID_LIMIT - 1))


class InvalidUsername(ValueError):
    """A username that TikTok would never accept, with the reason in plain words."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"invalid TikTok username {value!r}: {reason}")
        self.value = value
        self.reason = reason


def strip_username(value: str) -> str:
    """Return `value` without surrounding whitespace and one leading '@', case unchanged."""
    return value.strip().removeprefix("@")


def normalize_username(value: str) -> str:
    """Return the canonical form of a typed username: stripped, without '@', lowercase."""
    return strip_username(value).lower()


def validate_username(value: str) -> str:
    """Normalise `value` and raise InvalidUsername unless TikTok's rule admits it."""
    username = strip_username(value)

    if not username:
        raise InvalidUsername(value, "it is empty; send a username such as 'zg.520'")

    if len(username) < USERNAME_MIN_LENGTH or len(username) > USERNAME_MAX_LENGTH:
        characters = "1 character" if len(username) == 1 else f"{len(username)} characters"
        raise InvalidUsername(
            value,
            f"it has {characters}, but TikTok usernames have "
            f"{USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH}",
        )

    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidUsername(
            value,
            "TikTok usernames contain only ASCII letters, digits, '_' and '.' "
            "(one leading '@' and surrounding spaces are removed)",
        )

    return username.lower()


def is_user_id(reference: str) -> bool:
    """Return whether a path reference is all digits whose value fits a signed 64-bit id.

    Leading zeros are ignored, so "06799838955094836230" is the id 6799838955094836230.
    """
    if USER_ID_PATTERN.fullmatch(reference) is None:
        return False

    # Checking the length first keeps int() away from huge digit strings, which Python
    # rejects beyond 4300 digits.
    digits = reference.lstrip("0") or "0"
    return len(digits) <= USER_ID_MAX_DIGITS and int(digits) < USER_ID_LIMIT
