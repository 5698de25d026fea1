"""Respond to a browser context's requests from cassettes so TikTokApi runs offline.

Installed with `BrowserContext.route` before any page opens:
- TikTok API requests and profile pages get their recorded response;
- other TikTok pages get `SIGNING_PAGE`, a stand-in for TikTok's web app;
- every other host is aborted, so nothing reaches the network.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Request, Route
from playwright.async_api import Error as PlaywrightError

from app.tiktok.cassettes import CassetteLibrary, is_api_path, profile_username, username_of

logger = logging.getLogger(__name__)

# Header set on the response to an API request that has no recording.
MISSING_RECORDING_HEADER = "X-Replay-Recording-Not-Found"

# The page served for https://www.tiktok.com/ and TikTok's other app pages. TikTokApi
# 7.3.3 needs two things from it. The first is `window.byted_acrawler.frontierSign(url)`,
# which it polls for before every request and calls to sign the URL; the value goes into
# the X-Bogus parameter, which replay ignores. The second is a request made after the
# page has loaded, whose headers TikTokApi copies into the session and sends with every
# API call. Without one, every later fetch fails and TikTokApi marks the session dead.
# The hook is
# defined in <head> so it exists before `load`. The pings go out 100 and 250 ms after
# `load` and then stop, so Playwright's "networkidle" follows. On a loaded machine both
# can go out before TikTokApi listens, so the first mouse move sends one more: TikTokApi
# moves the mouse right after it starts listening.
SIGNING_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TikTok (replayed from cassettes)</title>
<script>
window.byted_acrawler = {
  frontierSign: function (url) { return {"X-Bogus": "DFSzswVLreplay"}; }
};
function ping() {
  fetch("/replay/ping", {cache: "no-store"}).catch(function () {});
}
window.addEventListener("load", function () {
  setTimeout(ping, 100);
  setTimeout(ping, 250);
});
window.addEventListener("mousemove", ping, {once: true});
</script>
</head>
<body></body>
</html>
"""


def is_tiktok_host(host: str | None) -> bool:
    """Return whether a host is tiktok.com or one of its subdomains."""
    return host is not None and (host == "tiktok.com" or host.endswith(".tiktok.com"))


@dataclass(frozen=True)
class MissingRecording:
    """A request that replay had no response for."""

    username: str | None
    method: str
    url: str


class ReplayRouter:
    """Route handler that answers TikTok from a CassetteLibrary and blocks other hosts."""

    def __init__(self, library: CassetteLibrary) -> None:
        self.library = library
        self.missing: list[MissingRecording] = []
        self.blocked: list[str] = []
        self._delays: set[asyncio.Task[None]] = set()

    async def install(self, context: BrowserContext) -> None:
        """Route every request of `context` through this router."""
        await context.route("**/*", self.handle)

    def pop_missing(self, username: str) -> list[MissingRecording]:
        """Remove and return the unanswered requests about `username`."""
        found = [entry for entry in self.missing if entry.username == username]
        self.missing = [entry for entry in self.missing if entry.username != username]
        return found

    def cancel_delays(self) -> None:
        """Stop waiting on slow recordings, so the browser can close at once."""
        for task in self._delays:
            task.cancel()

    async def handle(self, route: Route, request: Request) -> None:
        """Answer one request from the cassettes, the signing page, or not at all."""
        parts = urlsplit(request.url)

        if not is_tiktok_host(parts.hostname):
            logger.debug("Blocked a request to %s during replay", parts.hostname)
            self.blocked.append(request.url)
            await route.abort("blockedbyclient")
            return

        if is_api_path(parts.path) or profile_username(parts.path) is not None:
            await self._answer_recorded(route, request)
            return

        if request.resource_type == "document":
            await route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=SIGNING_PAGE
            )
            return

        await route.fulfill(status=204)

    async def _answer_recorded(self, route: Route, request: Request) -> None:
        recorded = self.library.find(request.method, request.url)

        if recorded is None:
            await self._answer_missing(route, request)
            return

        if recorded.delay > 0:
            logger.info(
                "Delaying the recorded response to %s %s (username %s) by %s s",
                request.method,
                urlsplit(request.url).path,
                username_of(request.url),
                recorded.delay,
            )
            delay = asyncio.ensure_future(asyncio.sleep(recorded.delay))
            self._delays.add(delay)
            try:
                await delay
            except asyncio.CancelledError:
                return
            finally:
                self._delays.discard(delay)

        try:
            await route.fulfill(
                status=recorded.status, headers=recorded.headers, body=recorded.body
            )
        except PlaywrightError as error:
            # The page or browser closed while the answer waited (a fetch past its deadline).
            logger.debug("No response for %s: %s", urlsplit(request.url).path, error.message)

    async def _answer_missing(self, route: Route, request: Request) -> None:
        username = username_of(request.url)
        self.missing.append(MissingRecording(username, request.method, request.url))
        logger.warning(
            "No recording for %s %s (username %s) in %s",
            request.method,
            urlsplit(request.url).path,
            username,
            self.library.location,
        )

        # An aborted fetch() makes TikTokApi 7.3.3 mark the session dead and close the
        # shared browser context, so API requests get an empty 404 instead: TikTokApi
        # raises EmptyResponseException and the client reports the missing recording.
        # Pages are aborted, which only fails that page's navigation.
        if request.resource_type in ("fetch", "xhr"):
            await route.fulfill(status=404, headers={MISSING_RECORDING_HEADER: "1"}, body="")
        else:
            await route.abort("blockedbyclient")
