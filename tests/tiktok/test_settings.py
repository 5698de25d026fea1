"""TikTokSettings read from the environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from tiktok_support import CASSETTES

from app.tiktok import TikTokSettings
from app.tiktok.settings import InvalidSetting


@pytest.fixture
def executable(tmp_path):
    path = tmp_path / "chrome"
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_from_env_defaults():
    settings = TikTokSettings.from_env({})

    assert settings == TikTokSettings()
    assert settings.deadline == 25.0
    assert settings.sessions == 1
    assert settings.headless is True
    assert settings.breaker_threshold == 5
    assert settings.breaker_cooldown == 60.0


def test_from_env_every_variable(executable, tmp_path):
    settings = TikTokSettings.from_env(
        {
            "TIKTOK_MS_TOKEN": "token-value",
            "TIKTOK_SESSIONS": "2",
            "TIKTOK_HEADLESS": "false",
            "TIKTOK_DEADLINE": "12.5",
            "TIKTOK_PROXY": "http://127.0.0.1:3128",
            "TIKTOK_BROWSER_PATH": str(executable),
            "TIKTOK_CASSETTES": str(CASSETTES),
            "TIKTOK_RECORD": str(tmp_path / "recorded"),
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
        browser_path=str(executable),
        cassettes=CASSETTES,
        record_to=tmp_path / "recorded",
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


def test_proxy_not_in_repr():
    settings = TikTokSettings(proxy="http://proxy-user:proxy-pw@127.0.0.1:3128")

    assert "proxy-pw" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIKTOK_SESSIONS", "two"),
        ("TIKTOK_SESSIONS", "0"),
        ("TIKTOK_HEADLESS", "maybe"),
        ("TIKTOK_DEADLINE", "soon"),
        ("TIKTOK_DEADLINE", "0"),
        ("TIKTOK_DEADLINE", "nan"),
        ("TIKTOK_DEADLINE", "inf"),
        ("TIKTOK_DEADLINE", "-1"),
        ("TIKTOK_DEADLINE", "3600.5"),
        ("TIKTOK_DEADLINE", "1e308"),
        ("TIKTOK_BREAKER_THRESHOLD", "0"),
        ("TIKTOK_BREAKER_COOLDOWN", "-1"),
        ("TIKTOK_BREAKER_COOLDOWN", "86401"),
        ("TIKTOK_BREAKER_COOLDOWN", "1e308"),
        ("TIKTOK_BREAKER_COOLDOWN", "later"),
    ],
)
def test_from_env_rejects_invalid(name, value):
    with pytest.raises(InvalidSetting) as caught:
        TikTokSettings.from_env({name: value})

    assert caught.value.name == name
    assert caught.value.value == value
    assert f"{name}={value!r}" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "field_name"),
    [
        ("TIKTOK_DEADLINE", "3600", "deadline"),
        ("TIKTOK_BREAKER_COOLDOWN", "86400", "breaker_cooldown"),
        ("TIKTOK_BREAKER_COOLDOWN", "0", "breaker_cooldown"),
    ],
)
def test_seconds_bounds_accepted(name, value, field_name):
    settings = TikTokSettings.from_env({name: value})

    assert getattr(settings, field_name) == float(value)


def test_seconds_error_names_range():
    with pytest.raises(InvalidSetting) as caught:
        TikTokSettings.from_env({"TIKTOK_DEADLINE": "1e308"})

    assert str(caught.value) == (
        "invalid TIKTOK_DEADLINE='1e308': expected seconds above 0 and at most 3600"
    )


def test_constructor_rejects_huge_deadline():
    with pytest.raises(InvalidSetting, match="TIKTOK_DEADLINE"):
        TikTokSettings(deadline=1e308)


def test_cassettes_file_accepted():
    settings = TikTokSettings.from_env({"TIKTOK_CASSETTES": str(CASSETTES / "zg.520.yaml")})

    assert settings.cassettes == CASSETTES / "zg.520.yaml"


def test_cassettes_missing_path():
    with pytest.raises(InvalidSetting) as caught:
        TikTokSettings.from_env({"TIKTOK_CASSETTES": "/nonexistent/dir"})

    assert caught.value.name == "TIKTOK_CASSETTES"
    assert "'/nonexistent/dir'" in str(caught.value)
    assert "no such file or directory" in str(caught.value)


def test_cassettes_directory_without_yaml(tmp_path):
    (tmp_path / "notes.txt").write_text("not a cassette")

    with pytest.raises(InvalidSetting, match=r"contains no \.yaml or \.yml files"):
        TikTokSettings.from_env({"TIKTOK_CASSETTES": str(tmp_path)})


def test_record_missing_directory_accepted(tmp_path):
    settings = TikTokSettings.from_env({"TIKTOK_RECORD": str(tmp_path / "new" / "cassettes")})

    assert settings.record_to == tmp_path / "new" / "cassettes"


def test_record_rejects_file(tmp_path):
    path = tmp_path / "zg.520.yaml"
    path.write_text("")

    with pytest.raises(InvalidSetting) as caught:
        TikTokSettings.from_env({"TIKTOK_RECORD": str(path)})

    assert caught.value.name == "TIKTOK_RECORD"
    assert str(path) in str(caught.value)
    assert "is a file, not a directory" in str(caught.value)


def test_record_rejects_file_as_parent(tmp_path):
    parent = tmp_path / "cassettes.yaml"
    parent.write_text("")

    with pytest.raises(InvalidSetting, match="is a file, not a directory"):
        TikTokSettings.from_env({"TIKTOK_RECORD": str(parent / "recorded")})


def test_browser_path_missing():
    with pytest.raises(InvalidSetting) as caught:
        TikTokSettings.from_env({"TIKTOK_BROWSER_PATH": "/nonexistent/chromium"})

    assert caught.value.name == "TIKTOK_BROWSER_PATH"
    assert "'/nonexistent/chromium'" in str(caught.value)
    assert "no such file" in str(caught.value)


def test_browser_path_not_executable(executable):
    executable.chmod(stat.S_IRUSR | stat.S_IWUSR)

    with pytest.raises(InvalidSetting, match="the file is not executable"):
        TikTokSettings.from_env({"TIKTOK_BROWSER_PATH": str(executable)})


def test_browser_path_directory(tmp_path):
    with pytest.raises(InvalidSetting, match="the path is not a file"):
        TikTokSettings.from_env({"TIKTOK_BROWSER_PATH": str(tmp_path)})


def test_browser_name_on_path():
    settings = TikTokSettings.from_env({"TIKTOK_BROWSER_PATH": "sh"})

    assert settings.browser_path == "sh"


def test_browser_name_not_on_path():
    with pytest.raises(InvalidSetting, match="no executable named no-such-chromium is on PATH"):
        TikTokSettings.from_env({"TIKTOK_BROWSER_PATH": "no-such-chromium"})


def test_record_into_replayed_directory(tmp_path):
    (tmp_path / "zg.520.yaml").write_text((CASSETTES / "zg.520.yaml").read_text())

    with pytest.raises(InvalidSetting, match="would overwrite the replayed cassettes"):
        TikTokSettings.from_env({"TIKTOK_CASSETTES": str(tmp_path), "TIKTOK_RECORD": str(tmp_path)})


def test_record_beside_replayed_file(tmp_path):
    cassette = tmp_path / "zg.520.yaml"
    cassette.write_text((CASSETTES / "zg.520.yaml").read_text())

    with pytest.raises(InvalidSetting, match="TIKTOK_RECORD"):
        TikTokSettings.from_env({"TIKTOK_CASSETTES": str(cassette), "TIKTOK_RECORD": str(tmp_path)})


def test_record_apart_from_replay(tmp_path):
    settings = TikTokSettings.from_env(
        {"TIKTOK_CASSETTES": str(CASSETTES), "TIKTOK_RECORD": str(tmp_path)}
    )

    assert settings.record_to == tmp_path
