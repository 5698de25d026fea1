"""Username normalisation and validation, by examples and by hypothesis properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.usernames import (
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    InvalidUsername,
    is_user_id,
    normalize_username,
    validate_username,
)

ALLOWED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."
CANONICAL = re.compile(r"[a-z0-9_.]+")

usernames = st.text(alphabet=ALLOWED, min_size=USERNAME_MIN_LENGTH, max_size=USERNAME_MAX_LENGTH)
padding = st.text(alphabet=" \t\n\r\u3000\u00a0", max_size=3)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("zg.520", "zg.520"),
        ("@ZG.520", "zg.520"),
        ("  @zg.520 \n", "zg.520"),
        ("Taylor_Swift", "taylor_swift"),
        ("__", "__"),
        ("123456", "123456"),
        ("a" * USERNAME_MAX_LENGTH, "a" * USERNAME_MAX_LENGTH),
    ],
)
def test_validate_accepts(typed: str, expected: str) -> None:
    assert validate_username(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "@",
        "a",
        "@a",
        "a" * (USERNAME_MAX_LENGTH + 1),
        "@@zg.520",
        "zg 520",
        "zg-520",
        "zg/520",
        "zg.520?x=1",
        "zg.520#",
        "zg'520",
        'zg"520',
        "zg<script>",
        "zg\x00520",
        "zg%2e520",
        "žofie",
        "\u212aelvin",
        "\uff5a\uff47\uff15\uff12\uff10",  # fullwidth "zg520"
        "zg.520\u200b",
    ],
)
def test_validate_rejects(typed: str) -> None:
    with pytest.raises(InvalidUsername):
        validate_username(typed)


def test_invalid_username_reason() -> None:
    with pytest.raises(InvalidUsername) as caught:
        validate_username("zg-520")

    assert caught.value.value == "zg-520"
    assert "letters, digits" in caught.value.reason


@given(st.text())
@example("\u212a" * 3)
@example("@" * 5)
def test_validate_output_canonical(value: str) -> None:
    try:
        username = validate_username(value)
    except InvalidUsername:
        return

    assert CANONICAL.fullmatch(username)
    assert USERNAME_MIN_LENGTH <= len(username) <= USERNAME_MAX_LENGTH


@given(st.text())
def test_validate_idempotent(value: str) -> None:
    try:
        username = validate_username(value)
    except InvalidUsername:
        return

    assert validate_username(username) == username


@given(usernames, padding, padding, st.booleans())
def test_validate_strips_decoration(username: str, before: str, after: str, at: bool) -> None:
    typed = before + ("@" if at else "") + username + after

    assert validate_username(typed) == username.lower()


@given(usernames, st.characters(exclude_characters=ALLOWED), st.integers(0, 30))
def test_validate_rejects_foreign_character(username: str, foreign: str, position: int) -> None:
    position = min(position, len(username))
    typed = "x" + username[:position] + foreign + username[position:] + "x"

    with pytest.raises(InvalidUsername):
        validate_username(typed)


@given(st.text(alphabet=ALLOWED, min_size=USERNAME_MAX_LENGTH + 1))
def test_validate_rejects_long(value: str) -> None:
    with pytest.raises(InvalidUsername):
        validate_username(value)


@given(st.text())
def test_normalize_matches_validate(value: str) -> None:
    try:
        username = validate_username(value)
    except InvalidUsername:
        return

    assert normalize_username(value) == username


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_is_user_id_accepts_int64(number: int) -> None:
    assert is_user_id(str(number))


@given(st.integers(min_value=2**63, max_value=10**19 - 1))
def test_is_user_id_rejects_overflow(number: int) -> None:
    assert not is_user_id(str(number))


@pytest.mark.parametrize(
    "reference",
    ["", "@123", "12a", "-1", "+1", " 1", "1.0", "١٢٣", "1" * 20, "9223372036854775808"],
)
def test_is_user_id_rejects(reference: str) -> None:
    assert not is_user_id(reference)


def test_is_user_id_real_ids() -> None:
    assert is_user_id("6799838955094836230")
    assert is_user_id("1234567")


@pytest.mark.parametrize(
    "reference", ["06799838955094836230", "0009223372036854775807", "00", "0" * 5000 + "7"]
)
def test_is_user_id_leading_zeros(reference: str) -> None:
    assert is_user_id(reference)


@pytest.mark.parametrize("reference", ["09223372036854775808", "1" * 5000])
def test_is_user_id_rejects_long_value(reference: str) -> None:
    assert not is_user_id(reference)


def test_length_reason_singular() -> None:
    with pytest.raises(InvalidUsername) as raised:
        validate_username("a")

    assert "it has 1 character," in raised.value.reason
