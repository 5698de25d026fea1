"""Cassettes of TikTok traffic in vcrpy's YAML format: load, match and write them.

TikTokApi sends every request through `fetch()` inside Chromium, so vcrpy's own HTTP
patches never see it. The client replays and records at Playwright's routing layer
(`replay.py`, `recorder.py`) and keeps the files in vcrpy's format, loaded with
`vcr.cassette.Cassette` and matched with `vcr.matchers`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vcr import matchers
from vcr.cassette import Cassette
from vcr.errors import UnhandledHTTPRequestError
from vcr.persisters.filesystem import FilesystemPersister
from vcr.record_mode import RecordMode
from vcr.request import Request
from vcr.serializers import yamlserializer

logger = logging.getLogger(__name__)

# vcrpy logs every loaded interaction, bodies included, at INFO.
logging.getLogger("vcr.cassette").setLevel(logging.WARNING)

CASSETTE_SUFFIXES = (".yaml", ".yml")

# TikTokApi adds a random device_id, screen size, history_len, msToken and X-Bogus to
# every URL, so only these parameters identify the requested object.
IDENTIFYING_PARAMETERS = ("uniqueId", "secUid", "cursor")

# Query parameters and headers dropped from recorded requests: session tokens and
# signatures that would let anyone reuse the recording machine's TikTok session.
SECRET_PARAMETERS = frozenset({"msToken", "X-Bogus", "X-Gnarly", "verifyFp", "_signature"})
SECRET_HEADERS = frozenset({"cookie", "authorization", "x-secsdk-csrf-token", "x-tt-params"})

# Response headers dropped from recordings: cookies are secrets, and the stored body is
# already decoded, so its original encoding and length no longer apply.
DROPPED_RESPONSE_HEADERS = frozenset(
    {"set-cookie", "content-encoding", "content-length", "transfer-encoding"}
)

# A response header that only cassettes carry: the replay waits this many seconds
# before it responds, which is how a cassette makes TikTok slow. It is never sent on.
DELAY_HEADER = "X-Replay-Delay-Seconds"

API_PATH_PREFIX = "/api/"
_PROFILE_PATH = re.compile(r"/@([A-Za-z0-9_.]+)/?")


def identifying_parameters(r1: Request, r2: Request) -> None:
    """vcrpy matcher: raise AssertionError unless both requests ask for the same object."""
    first = _identifying(r1.uri)
    second = _identifying(r2.uri)
    if first != second:
        raise AssertionError(f"{first} != {second}")


# vcrpy applies these in order; every one must pass for a recording to match.
MATCH_ON = (matchers.method, matchers.host, matchers.path, identifying_parameters)


def _identifying(url: str) -> dict[str, str]:
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    return {name: value for name, value in query if name in IDENTIFYING_PARAMETERS and value}


def is_api_path(path: str) -> bool:
    """Return whether a tiktok.com path is one of TikTok's JSON API endpoints."""
    return path.startswith(API_PATH_PREFIX)


def profile_username(path: str) -> str | None:
    """Return the username of a profile page path such as `/@zg.520`, else None."""
    match = _PROFILE_PATH.fullmatch(path)
    return match.group(1).lower() if match else None


def username_of(url: str) -> str | None:
    """Return the username a TikTok URL is about (its uniqueId or profile path), if any."""
    parts = urlsplit(url)
    for name, value in parse_qsl(parts.query):
        if name == "uniqueId" and value:
            return value.lower()
    return profile_username(parts.path)


@dataclass(frozen=True)
class RecordedResponse:
    """One recorded response, ready to be sent back through `Route.fulfill`."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float

    @classmethod
    def from_vcr(cls, response: Mapping[str, object]) -> RecordedResponse:
        """Build from vcrpy's response dict: status, headers (name -> values), body."""
        status = response.get("status") or {}
        headers: dict[str, str] = {}
        delay = 0.0

        for name, values in (response.get("headers") or {}).items():
            value = ", ".join(values) if isinstance(values, list) else str(values)
            if name.lower() == DELAY_HEADER.lower():
                delay = _delay_seconds(value)
            elif name.lower() not in DROPPED_RESPONSE_HEADERS:
                headers[name] = value

        body = (response.get("body") or {}).get("string") or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        return cls(status=int(status.get("code", 200)), headers=headers, body=body, delay=delay)


def _delay_seconds(value: str) -> float:
    try:
        delay = float(value)
    except ValueError:
        delay = math.nan
    if not math.isfinite(delay) or delay < 0:
        raise ValueError(f"{DELAY_HEADER} must be a number of seconds of 0 or more, not {value!r}")
    return delay


class CassetteLibrary:
    """Every cassette at a location: one YAML file, or all YAML files in a directory."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.cassettes = [self._load(path) for path in self._files(location)]
        logger.info(
            "Loaded %d cassettes with %d recordings from %s",
            len(self.cassettes),
            sum(len(cassette.data) for cassette in self.cassettes),
            location,
        )

    def find(self, method: str, url: str) -> RecordedResponse | None:
        """Return the first recording that matches the request, or None."""
        # Stripped first: vcrpy logs the requests it compares at DEBUG.
        request = Request(method, strip_secrets(url), None, {})
        for cassette in self.cassettes:
            try:
                response = cassette.play_response(request)
            except UnhandledHTTPRequestError:
                continue
            return RecordedResponse.from_vcr(response)
        return None

    def path_for(self, username: str) -> Path:
        """Return the file that holds, or would hold, the recordings for a username."""
        if self.location.is_dir():
            return self.location / f"{username}.yaml"
        return self.location

    @staticmethod
    def _files(location: Path) -> list[Path]:
        if location.is_file():
            return [location]
        if location.is_dir():
            return sorted(path for path in location.iterdir() if path.suffix in CASSETTE_SUFFIXES)
        raise FileNotFoundError(f"TIKTOK_CASSETTES={str(location)!r} is not a file or directory")

    @staticmethod
    def _load(path: Path) -> Cassette:
        """Load one cassette and check its responses, so a bad one fails now, not in replay."""
        cassette = Cassette.load(
            path=str(path),
            serializer=yamlserializer,
            persister=FilesystemPersister,
            record_mode=RecordMode.NONE,
            match_on=MATCH_ON,
            allow_playback_repeats=True,
        )
        for _, response in cassette.data:
            try:
                RecordedResponse.from_vcr(response)
            except ValueError as error:
                raise ValueError(f"{path}: {error}") from None
        return cassette


def strip_secrets(url: str) -> str:
    """Return `url` without the session tokens and signatures in SECRET_PARAMETERS."""
    parts = urlsplit(url)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name not in SECRET_PARAMETERS
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def recorded_request(method: str, url: str, headers: Mapping[str, str]) -> Request:
    """Build the vcrpy request to store, without session tokens, signatures or cookies."""
    clean_url = strip_secrets(url)
    clean_headers = {
        name: value for name, value in headers.items() if name.lower() not in SECRET_HEADERS
    }
    return Request(method, clean_url, None, clean_headers)


def recorded_response(
    status: int, reason: str, headers: Iterable[tuple[str, str]], body: bytes
) -> dict[str, object]:
    """Build vcrpy's response dict, without cookies and transfer headers."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        if name.lower() not in DROPPED_RESPONSE_HEADERS:
            grouped.setdefault(name, []).append(value)

    return {
        "status": {"code": status, "message": reason},
        "headers": grouped,
        "body": {"string": body},
    }


def write_cassette(path: Path, interactions: Iterable[tuple[Request, dict[str, object]]]) -> None:
    """Write interactions to `path` in vcrpy's YAML format, replacing the file."""
    pairs = list(interactions)
    FilesystemPersister.save_cassette(
        path,
        {"requests": [request for request, _ in pairs], "responses": [r for _, r in pairs]},
        yamlserializer,
    )
