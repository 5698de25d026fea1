"""TikTokSettings read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tiktok import TikTokSettings
from app.tiktok.settings import InvalidSetting


def test_from_env_defaults():
    settings = TikTokSettings.from_env({})

    assert settings == TikTokSettings()
    assert settings.deadline == 25.0
    assert settings.sessions == 1
    assert settings.headless is True
    assert settings.breaker_threshold == 5
    assert settings.breaker_cooldown == 60.0


def test_from_env_every_variable():
    settings = TikTokSettings.from_env(
        {
            "TIKTOK_MS_TOKEN": "token-value",
            "TIKTOK_SESSIONS": "2",
            "TIKTOK_HEADLESS": "false",
            "TIKTOK_DEADLINE": "12.5",
            "TIKTOK_PROXY": "http://127.0.0.1:3128",
            "TIKTOK_BROWSER_PATH": "/usr/bin/chromium",
            "TIKTOK_CASSETTES": "tests/cassettes",
            "TIKTOK_RECORD": "/tmp/recorded",
            "TIKTOK_BREAKER_THRESHOLD": "3",
            "TIKTOK_BREAKER_COOLDOWN": "30",
        }
    )

    assert settings == TikTokSettings(
        ms_token="token-value",
        sessions=2,
        headless=False,
        deadline=12.5,
        proxy="http://127.0.0.1:3128",
        browser_path="/usr/bin/chromium",
        cassettes=Path("tests/cassettes"),
        record_to=Path("/tmp/recorded"),
        breaker_threshold=3,
        breaker_cooldown=30.0,
    )


def test_empty_variables_keep_defaults():
    settings = TikTokSettings.from_env({"TIKTOK_CASSETTES": "", "TIKTOK_DEADLINE": " "})

    assert settings.cassettes is None
    assert settings.deadline == 25.0


def test_replay_follows_cassettes():
    assert TikTokSettings(cassettes=Path("tests/cassettes")).replay is True
    assert TikTokSettings().replay is False


def test_ms_token_not_in_repr():
    settings = TikTokSettings(ms_token="secret-ms-token")

    assert "secret-ms-token" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIKTOK_SESSIONS", "two"),
        ("TIKTOK_SESSIONS", "0"),
        ("TIKTOK_HEADLESS", "maybe"),
        ("TIKTOK_DEADLINE", "soon"),
        ("TIKTOK_DEADLINE", "0"),
        ("TIKTOK_DEADLINE", "nan"),
        ("TIKTOK_BREAKER_THRESHOLD", "0"),
        ("TIKTOK_BREAKER_COOLDOWN", "-1"),
    ],
)
def test_from_env_rejects_invalid(name, value):
    with pytest.raises(InvalidSetting, match=name):
        TikTokSettings.from_env({name: value})
