"""Settings of the TikTok client, read from TIKTOK_* environment variables."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.config import FALSE_WORDS, TRUE_WORDS, ConfigError
from app.tiktok.cassettes import CASSETTE_SUFFIXES

# An API Gateway HTTP API waits at most 30 s for its integration (a REST API 29 s by
# default), so a fetch gives up at 25 s and the client gets the app's own 504.
DEFAULT_DEADLINE = 25.0
DEFAULT_BREAKER_THRESHOLD = 5
DEFAULT_BREAKER_COOLDOWN = 60.0

# Upper bounds for the seconds settings. The client waits on a future with the deadline as
# its timeout, and a huge value such as 1e308 overflows the platform's time_t there on
# every request. An hour is longer than HTTP clients and proxies keep a request open, and
# a day is longer than any useful Retry-After, so larger values are typing mistakes.
MAX_DEADLINE = 3600.0
MAX_BREAKER_COOLDOWN = 86400.0

# What the seconds settings accept, shown in the error for a rejected value.
DEADLINE_RANGE = f"seconds above 0 and at most {MAX_DEADLINE:g}"
BREAKER_COOLDOWN_RANGE = f"seconds from 0 to {MAX_BREAKER_COOLDOWN:g}"


class InvalidSetting(ConfigError):
    """An environment variable of the TikTok client contains a value it cannot use."""


@dataclass(frozen=True)
class TikTokSettings:
    """How the TikTok client launches Chromium and where it gets TikTok's responses."""

    ms_token: str | None = field(default=None, repr=False)
    sessions: int = 1
    headless: bool = True
    deadline: float = DEFAULT_DEADLINE
    # A proxy URL may carry the proxy's user name and password, so it stays out of repr.
    proxy: str | None = field(default=None, repr=False)
    browser_path: str | None = None
    cassettes: Path | None = None
    record_to: Path | None = None
    breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD
    breaker_cooldown: float = DEFAULT_BREAKER_COOLDOWN

    def __post_init__(self) -> None:
        if self.sessions < 1:
            raise InvalidSetting("TIKTOK_SESSIONS", str(self.sessions), "an integer of 1 or more")

        if not _deadline_in_range(self.deadline):
            raise InvalidSetting("TIKTOK_DEADLINE", str(self.deadline), DEADLINE_RANGE)

        if self.breaker_threshold < 1:
            raise InvalidSetting(
                "TIKTOK_BREAKER_THRESHOLD", str(self.breaker_threshold), "an integer of 1 or more"
            )

        if not _breaker_cooldown_in_range(self.breaker_cooldown):
            raise InvalidSetting(
                "TIKTOK_BREAKER_COOLDOWN", str(self.breaker_cooldown), BREAKER_COOLDOWN_RANGE
            )

    @property
    def replay(self) -> bool:
        """Whether TikTok's responses come from cassettes instead of the network."""
        return self.cassettes is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TikTokSettings:
        """Build settings from TIKTOK_* variables; unset or empty ones keep their default.

        Unlike the constructor, this also checks the paths against the file system, so
        a service started with a wrong path fails at start-up and names the variable.
        """
        settings = cls(
            ms_token=_text(environ, "TIKTOK_MS_TOKEN"),
            sessions=_integer(environ, "TIKTOK_SESSIONS", 1),
            headless=_boolean(environ, "TIKTOK_HEADLESS", True),
            deadline=_seconds(
                environ, "TIKTOK_DEADLINE", DEFAULT_DEADLINE, _deadline_in_range, DEADLINE_RANGE
            ),
            proxy=_text(environ, "TIKTOK_PROXY"),
            browser_path=_browser_path(environ, "TIKTOK_BROWSER_PATH"),
            cassettes=_cassettes(environ, "TIKTOK_CASSETTES"),
            record_to=_record_directory(environ, "TIKTOK_RECORD"),
            breaker_threshold=_integer(
                environ, "TIKTOK_BREAKER_THRESHOLD", DEFAULT_BREAKER_THRESHOLD
            ),
            breaker_cooldown=_seconds(
                environ,
                "TIKTOK_BREAKER_COOLDOWN",
                DEFAULT_BREAKER_COOLDOWN,
                _breaker_cooldown_in_range,
                BREAKER_COOLDOWN_RANGE,
            ),
        )
        _check_record_apart(settings)
        return settings


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _cassettes(environ: Mapping[str, str], name: str) -> Path | None:
    """Read a cassette file or a directory that contains at least one cassette."""
    value = _text(environ, name)
    if value is None:
        return None

    expected = "a cassette file, or a directory of .yaml cassettes"
    path = Path(value)
    if path.is_file():
        return path
    if not path.exists():
        raise InvalidSetting(name, value, expected, "no such file or directory")
    if not path.is_dir():
        raise InvalidSetting(name, value, expected, "the path is not a file or directory")

    if not any(entry.suffix in CASSETTE_SUFFIXES for entry in path.iterdir()):
        raise InvalidSetting(name, value, expected, "the directory contains no .yaml or .yml files")
    return path


def _record_directory(environ: Mapping[str, str], name: str) -> Path | None:
    """Read a directory to write cassettes to, which the recorder creates when missing."""
    value = _text(environ, name)
    if value is None:
        return None

    expected = "a directory that the service can write cassettes to"
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise InvalidSetting(name, value, expected, "the path is a file, not a directory")

    existing = next(parent for parent in (path, *path.absolute().parents) if parent.exists())
    if not existing.is_dir():
        raise InvalidSetting(name, value, expected, f"{existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidSetting(name, value, expected, f"the directory {existing} is not writable")
    return path


def _check_record_apart(settings: TikTokSettings) -> None:
    """Reject recording into the cassettes being replayed.

    The replay responds without the X-Replay-Delay-Seconds header, so the recorder would
    replace each replayed cassette with a copy that lost its delay.
    """
    if settings.record_to is None or settings.cassettes is None:
        return

    replayed = settings.cassettes.resolve()
    if not replayed.is_dir():
        replayed = replayed.parent
    if settings.record_to.resolve() == replayed:
        raise InvalidSetting(
            "TIKTOK_RECORD",
            str(settings.record_to),
            "a directory other than the one TIKTOK_CASSETTES replays",
            "the recorder would overwrite the replayed cassettes",
        )


def _browser_path(environ: Mapping[str, str], name: str) -> str | None:
    """Read the path of a Chromium executable, or the name of one on PATH."""
    value = _text(environ, name)
    if value is None:
        return None

    expected = "the path of a Chromium executable, or the name of one on PATH"
    if os.sep not in value:
        if shutil.which(value) is None:
            raise InvalidSetting(name, value, expected, f"no executable named {value} is on PATH")
        return value

    path = Path(value)
    if not path.exists():
        raise InvalidSetting(name, value, expected, "no such file")
    if not path.is_file():
        raise InvalidSetting(name, value, expected, "the path is not a file")
    if not os.access(path, os.X_OK):
        raise InvalidSetting(name, value, expected, "the file is not executable")
    return value


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _text(environ, name)
    if value is None:
        return default

    try:
        return int(value)
    except ValueError:
        raise InvalidSetting(name, value, "an integer") from None


def _seconds(
    environ: Mapping[str, str],
    name: str,
    default: float,
    in_range: Callable[[float], bool],
    expected: str,
) -> float:
    """Read a number of seconds, checked here so that an error shows the value as typed."""
    value = _text(environ, name)
    if value is None:
        return default

    try:
        seconds = float(value)
    except ValueError:
        raise InvalidSetting(name, value, expected) from None

    # nan fails every comparison and inf exceeds the maximum, so both are rejected here.
    if not in_range(seconds):
        raise InvalidSetting(name, value, expected)
    return seconds


def _deadline_in_range(seconds: float) -> bool:
    return 0 < seconds <= MAX_DEADLINE


def _breaker_cooldown_in_range(seconds: float) -> bool:
    return 0 <= seconds <= MAX_BREAKER_COOLDOWN


def _boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = _text(environ, name)
    if value is None:
        return default

    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise InvalidSetting(name, value, f"one of {', '.join(TRUE_WORDS + FALSE_WORDS)}")
