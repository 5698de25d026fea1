"""One Chromium with TikTokApi sessions on one browser context, owned by one event loop.

Everything here runs on the client's event loop thread: Playwright objects belong to
the loop that created them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from playwright.async_api import Browser, BrowserContext, Playwright, ProxySettings
from playwright.async_api import Error as PlaywrightError
from TikTokApi import TikTokApi
from TikTokApi.api.user import User
from TikTokApi.exceptions import (
    EmptyResponseException,
    InvalidJSONException,
    InvalidResponseException,
)
from TikTokApi.stealth import stealth_async

from app.tiktok.browser import CHROMIUM_ARGS, find_browser
from app.tiktok.cassettes import CassetteLibrary
from app.tiktok.errors import RecordingNotFound
from app.tiktok.parser import EMPTY_BODY, NOT_JSON_BODY, PayloadBlocked
from app.tiktok.recorder import Recorder
from app.tiktok.replay import ReplayRouter
from app.tiktok.settings import TikTokSettings

logger = logging.getLogger(__name__)

TIKTOK_URL = "https://www.tiktok.com"
PROFILE_URL = TIKTOK_URL + "/@{username}"

# Milliseconds Playwright waits for a navigation (TikTokApi's first page, profile pages).
NAVIGATION_TIMEOUT_MS = 20_000

# TikTokApi's records go to this logger, with msToken values masked and long messages
# cut. Its level is inherited, so the application's logging configuration applies.
LIBRARY_LOGGER_NAME = "app.tiktok.tiktokapi"
LIBRARY_MESSAGE_LIMIT = 300
_MS_TOKEN = re.compile(r"(msToken=)[^&\s'\"]+")

# TikTokApi 7.3.3 logs these whole bodies at ERROR (tiktok.py make_request, api/user.py
# User.__extract_from_data), even for a captcha or a success body without `status_code`.
# The client parses the same body and logs the outcome, so they go down to DEBUG.
LIBRARY_BODY_DUMPS = (
    "Got an unexpected status code:",
    "Failed to decode json response:",
    "Failed to create User with data:",
)

# msToken sent during replay, so TikTokApi skips its wait for TikTok to set the cookie.
REPLAY_MS_TOKEN = "replay"


class SessionDied(Exception):
    """Chromium or the TikTokApi session is gone; the session must be relaunched."""


class PageNotLoaded(PayloadBlocked):
    """The profile page did not load while Chromium was alive; `reason` is the error."""


@dataclass(frozen=True)
class UserDetail:
    """What TikTok's user-detail API returned through TikTokApi.

    `body` is None when TikTokApi kept no body (an empty or non-JSON response). Then
    `library_error` describes what TikTok sent, as a noun phrase like PayloadError.reason.
    """

    body: object
    library_error: str = ""


def first_line(text: str) -> str:
    """Return the first line of an error message; Playwright appends a multi-line call log."""
    return text.strip().split("\n", 1)[0]


class LibraryLogFilter(logging.Filter):
    """Lower TikTokApi's levels, mask msToken values and cut long messages.

    Every failure TikTokApi logs at ERROR reaches the client as an exception, which the
    client reports itself, so TikTokApi's records go no higher than WARNING. Body dumps
    go to DEBUG. A record whose new level the logger is not enabled for is dropped.
    """

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self._logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(LIBRARY_BODY_DUMPS):
            _set_level(record, logging.DEBUG)
        elif record.levelno > logging.WARNING:
            _set_level(record, logging.WARNING)
        if not self._logger.isEnabledFor(record.levelno):
            return False

        message = _MS_TOKEN.sub(r"\1***", message)
        if len(message) > LIBRARY_MESSAGE_LIMIT:
            message = message[:LIBRARY_MESSAGE_LIMIT] + f"... ({len(message)} characters)"
        record.msg = message
        record.args = None
        return True


def _set_level(record: logging.LogRecord, level: int) -> None:
    record.levelno = level
    record.levelname = logging.getLevelName(level)


def playwright_proxy(url: str) -> ProxySettings:
    """Split a proxy URL into Playwright's proxy settings.

    Playwright 1.65 keeps only the scheme, host and port of `server` and takes the
    credentials from separate fields, so a `user:password@` part would be lost.
    """
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return {"server": url}

    host_and_port = parts.netloc.rpartition("@")[2]
    proxy: ProxySettings = {"server": f"{parts.scheme}://{host_and_port}"}
    if parts.username:
        proxy["username"] = unquote(parts.username)
    if parts.password:
        proxy["password"] = unquote(parts.password)
    return proxy


def configure_library_logger(logger: logging.Logger) -> None:
    """Route TikTokApi's logger through the application's logging, filtered."""
    # TikTokApi adds a StreamHandler to its logger on every instance and sets the level
    # it is given. Dropping both sends its records through the application's handlers.
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    if not any(isinstance(f, LibraryLogFilter) for f in logger.filters):
        logger.addFilter(LibraryLogFilter(logger))


class BrowserSession:
    """Chromium, its browser context (with replay or recording routes) and TikTokApi."""

    def __init__(self, settings: TikTokSettings, on_launch: Callable[[], None]) -> None:
        self.settings = settings
        self.api: TikTokApi | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.router: ReplayRouter | None = None
        self.recorder: Recorder | None = None
        self.crashed = False
        self.closing = False
        self._on_launch = on_launch
        self._user_type: type[User] | None = None

    async def start(self) -> None:
        """Launch Chromium and open TikTokApi's sessions on TikTok's start page."""
        api = TikTokApi(logger_name=LIBRARY_LOGGER_NAME)
        configure_library_logger(api.logger)
        self.api = api

        # TikTokApi stores the instance in a class attribute (User.parent), shared by
        # every TikTokApi in the process; a subclass binds users to this instance.
        self._user_type = type("SessionUser", (User,), {"parent": api})

        ms_token = self.settings.ms_token
        if ms_token is None and self.settings.replay:
            ms_token = REPLAY_MS_TOKEN

        await api.create_sessions(
            num_sessions=self.settings.sessions,
            headless=self.settings.headless,
            ms_tokens=[ms_token] if ms_token else None,
            starting_url=TIKTOK_URL,
            browser_context_factory=self._create_context,
            timeout=NAVIGATION_TIMEOUT_MS,
        )

        # TikTokApi copies the headers of the first request the start page makes after
        # it starts listening. When that request went out earlier (a loaded machine), it
        # keeps None, and every fetch then fails with headers: null. The browser adds its
        # own headers to each fetch, so an empty set works as well.
        for index, session in enumerate(api.sessions):
            if session.headers is None:
                logger.warning(
                    "TikTokApi captured no request headers for session %d; using none", index
                )
                session.headers = {}

    async def _create_context(self, playwright: Playwright) -> BrowserContext:
        """Launch Chromium and return a context with routes installed before any page."""
        executable = find_browser(playwright.chromium.executable_path, self.settings.browser_path)
        logger.info("Launching Chromium at %s (headless=%s)", executable, self.settings.headless)

        self.browser = await playwright.chromium.launch(
            executable_path=executable,
            headless=self.settings.headless,
            args=list(CHROMIUM_ARGS),
        )
        self._on_launch()
        self.browser.on("disconnected", self._on_disconnected)

        proxy = playwright_proxy(self.settings.proxy) if self.settings.proxy else None
        context = await self.browser.new_context(proxy=proxy, service_workers="block")

        if self.settings.cassettes is not None:
            self.router = ReplayRouter(self._load_cassettes(self.settings.cassettes))
            await self.router.install(context)
        if self.settings.record_to is not None:
            self.recorder = Recorder(self.settings.record_to)
            self.recorder.install(context)

        self.context = context
        return context

    @staticmethod
    def _load_cassettes(location: Path) -> CassetteLibrary:
        try:
            return CassetteLibrary(location)
        except (OSError, ValueError) as error:
            raise RecordingNotFound(
                "",
                f"The cassettes at {location} could not be loaded ({first_line(str(error))})",
                str(location),
            ) from None

    def _on_disconnected(self, _browser: Browser) -> None:
        if not self.crashed and not self.closing:
            logger.warning("Chromium disconnected; it will be relaunched on the next fetch")
        self.crashed = True

    async def fetch_user_detail(self, username: str) -> UserDetail:
        """Call TikTok's user-detail API through TikTokApi and return what it got.

        TikTokApi 7.3.3 raises KeyError or TypeError on bodies it cannot read, after
        storing a parsed body in `as_dict`. An empty body raises EmptyResponseException.
        A non-JSON body raises a TypeError after three tries over about 6 s, because
        TikTokApi constructs InvalidJSONException without its required arguments.
        """
        if self.crashed or self._user_type is None:
            raise SessionDied("Chromium is not running")

        user = self._user_type(username=username)
        try:
            return UserDetail(await user.info())
        except KeyError as error:
            library_error = f"a body that TikTokApi could not read (no {error} key)"
        except TypeError:
            # Without a stored body, this is TikTokApi's broken InvalidJSONException().
            library_error = NOT_JSON_BODY
        except EmptyResponseException:
            library_error = EMPTY_BODY
        except (InvalidJSONException, InvalidResponseException) as error:
            library_error = (
                f"a response that TikTokApi rejected ({type(error).__name__}: {error.message})"
            )
        except PlaywrightError as error:
            raise SessionDied(f"Playwright failed: {first_line(error.message)}") from None
        except Exception as error:
            # TikTokApi 7.3.3 raises bare Exception when no session is left alive
            # ("No valid sessions available") or a page could not sign the URL.
            if type(error) is not Exception:
                raise
            raise SessionDied(f"TikTokApi failed: {error}") from None

        logger.info("User detail of %s unreadable by TikTokApi: %s", username, library_error)
        return UserDetail(getattr(user, "as_dict", None), library_error)

    async def fetch_profile_page(self, username: str) -> str:
        """Load `https://www.tiktok.com/@<username>` in a new page and return its HTML.

        A new page keeps TikTokApi's signing page untouched. Raises PageNotLoaded when
        the page does not load while Chromium is alive, SessionDied when it is not.
        """
        if self.crashed or self.context is None:
            raise SessionDied("Chromium is not running")

        url = PROFILE_URL.format(username=quote(username, safe=""))
        try:
            page = await self.context.new_page()
        except PlaywrightError as error:
            raise SessionDied(f"could not open a page: {error.message}") from None

        try:
            await stealth_async(page)
            response = await page.goto(
                url, wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS
            )
            if response is None:
                raise PageNotLoaded("Chromium received no response")
            return await response.text()
        except PlaywrightError as error:
            reason = first_line(error.message)
            if self.crashed or self.browser is None or not self.browser.is_connected():
                raise SessionDied(f"Chromium died loading {url}: {reason}") from None
            raise PageNotLoaded(reason) from None
        finally:
            await self._close_page(page)

    @staticmethod
    async def _close_page(page: object) -> None:
        try:
            await page.close()  # type: ignore[attr-defined]
        except PlaywrightError as error:
            logger.debug("Closing a profile page failed: %s", error.message)

    async def close(self) -> None:
        """Close the pages, the browser context, Chromium and Playwright, logging their errors."""
        self.closing = True
        if self.router is not None:
            self.router.cancel_delays()

        if self.browser is not None:
            try:
                await self.browser.close()
            except PlaywrightError as error:
                logger.debug("Closing Chromium failed: %s", error.message)

        # Closes TikTokApi's pages and stops Playwright; it logs and swallows its errors.
        if self.api is not None:
            await self.api.close_sessions()
