"""Record TikTok's responses seen by a browser context into vcrpy cassettes.

The recorder listens to the context's responses rather than routing the requests, so
the requests go wherever they would go without it. That is live TikTok, or a replay
router installed on the same context, which is how the tests check it offline. It keeps the
API requests that name a user (`uniqueId`) and the profile pages, and writes them to
`<directory>/<username>.yaml` without msToken, signatures or cookies.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Response
from playwright.async_api import Error as PlaywrightError
from vcr.request import Request as VcrRequest

from app.tiktok.cassettes import (
    recorded_request,
    recorded_response,
    username_of,
    write_cassette,
)
from app.tiktok.replay import MISSING_RECORDING_HEADER, is_tiktok_host

logger = logging.getLogger(__name__)


class Recorder:
    """Collects TikTok interactions per username and writes them as cassettes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._interactions: dict[str, list[tuple[VcrRequest, dict[str, object]]]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def install(self, context: BrowserContext) -> None:
        """Start listening to the responses of `context`."""
        context.on("response", self._on_response)

    def path_for(self, username: str) -> Path:
        """Return the cassette file that recordings of `username` are written to."""
        return self.directory / f"{username}.yaml"

    async def save(self, username: str) -> Path | None:
        """Write what was recorded for `username` since the last save; None if nothing."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

        interactions = self._interactions.pop(username, [])
        if not interactions:
            logger.warning("Recorded nothing for username %s", username)
            return None

        path = self.path_for(username)
        write_cassette(path, interactions)
        logger.info("Recorded %d interactions for %s into %s", len(interactions), username, path)
        return path

    def _on_response(self, response: Response) -> None:
        parts = urlsplit(response.url)
        if not is_tiktok_host(parts.hostname):
            return

        username = username_of(response.url)
        if username is None:
            return
        if response.headers.get(MISSING_RECORDING_HEADER.lower()):
            return

        task = asyncio.ensure_future(self._capture(username, response))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _capture(self, username: str, response: Response) -> None:
        try:
            body = await response.body()
            headers = await response.headers_array()
            request_headers = await response.request.all_headers()
        except PlaywrightError as error:
            logger.warning("Could not record %s for %s: %s", response.url, username, error)
            return

        request = recorded_request(response.request.method, response.url, request_headers)
        answer = recorded_response(
            response.status,
            response.status_text,
            [(header["name"], header["value"]) for header in headers],
            body,
        )
        self._interactions.setdefault(username, []).append((request, answer))
