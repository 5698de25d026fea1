"""The TikTok client: a warm Chromium on a background event loop, behind a blocking API."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from playwright.async_api import Error as PlaywrightError

from app.tiktok.breaker import CircuitBreaker
from app.tiktok.browser_session import BrowserSession, PageNotLoaded, SessionDied, first_line
from app.tiktok.errors import (
    AccountNotFound,
    BrowserNotFound,
    RecordingNotFound,
    TikTokBlocked,
    TikTokTimeout,
    TikTokUnavailable,
    UsernameRejected,
)
from app.tiktok.parser import AccountMissing, PayloadBlocked, parse_profile_page, parse_user_detail
from app.tiktok.profile import Profile
from app.tiktok.settings import TikTokSettings
from app.usernames import InvalidUsername, validate_username

logger = logging.getLogger(__name__)

# Seconds a launch of Chromium and TikTokApi's first page may take before it counts as
# failed. It runs on past a fetch's deadline, so the next fetch finds it warm.
LAUNCH_TIMEOUT = 60.0

# Seconds close() waits for Chromium and Playwright to stop.
CLOSE_TIMEOUT = 15.0

# Retry-After seconds sent when the browser died: the next fetch relaunches it.
RELAUNCH_RETRY_AFTER = 5

# The two requests a fetch may send, as exception messages name them.
USER_DETAIL_REQUEST = "user-detail request"
PROFILE_PAGE_REQUEST = "profile-page request"

T = TypeVar("T")


class TikTokClient:
    """Fetches TikTok profiles through TikTokApi and one long-lived Chromium.

    A daemon thread runs one asyncio loop that owns TikTokApi and its Playwright
    sessions; `fetch_profile` submits work to it and waits up to the deadline. Nothing
    starts before the first fetch. `close()` stops everything and runs at exit.
    """

    def __init__(self, settings: TikTokSettings | None = None) -> None:
        self.settings = settings or TikTokSettings()
        self.breaker = CircuitBreaker(
            self.settings.breaker_threshold, self.settings.breaker_cooldown
        )
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._launch_count = 0

        # Owned by the loop thread.
        self._session: BrowserSession | None = None
        self._starting: asyncio.Task[BrowserSession] | None = None

    def __repr__(self) -> str:
        return f"TikTokClient({self.settings!r}, running={self.is_running})"

    @property
    def launch_count(self) -> int:
        """Chromium launches so far."""
        return self._launch_count

    @property
    def is_running(self) -> bool:
        """Whether a Chromium is up and its session usable."""
        session = self._session
        return session is not None and not session.crashed

    def fetch_profile(self, username: str) -> Profile:
        """Fetch one account from TikTok; blocking, thread-safe, raises only TikTokError."""
        try:
            username = validate_username(username)
        except InvalidUsername as error:
            raise UsernameRejected(
                str(username),
                f"The username {error.value!r} is not a valid TikTok username, because "
                f"{error.reason}",
            ) from None

        retry_after = self.breaker.retry_after()
        if retry_after is not None:
            raise TikTokUnavailable(
                username,
                f"TikTok blocked the last {self.breaker.threshold} requests, so calls to "
                f"TikTok are paused for {retry_after} s and {username!r} was not requested",
                retry_after,
            )

        deadline = self.settings.deadline
        started = time.monotonic()
        future = self._submit(username, self._collect(username))
        try:
            profile = future.result(timeout=deadline)
        except concurrent.futures.TimeoutError:
            future.cancel()
            starting = self._session is None
            logger.warning(
                "Fetching %s timed out after %s s%s",
                username,
                deadline,
                " while Chromium was starting" if starting else "",
            )
            raise TikTokTimeout(
                username, _timeout_message(username, deadline, starting), deadline
            ) from None
        except concurrent.futures.CancelledError:
            raise TikTokUnavailable(
                username, f"The TikTok client was closed while it fetched {username!r}", 1
            ) from None
        except TikTokUnavailable:
            raise
        except TikTokBlocked as error:
            logger.warning("TikTok blocked the fetch of %s: %s", username, error.message)
            self.breaker.record_block(username)
            raise
        except AccountNotFound:
            self.breaker.record_success()
            raise

        self.breaker.record_success()
        logger.info(
            "Fetched %s (id %s) from the %s in %.2f s",
            username,
            profile.user_id,
            profile.source,
            time.monotonic() - started,
        )
        return profile

    def close(self) -> None:
        """Stop the sessions, Chromium, Playwright and the loop thread; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread

        atexit.unregister(self.close)
        if loop is None or thread is None:
            return

        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            future.result(timeout=CLOSE_TIMEOUT)
        except concurrent.futures.TimeoutError:
            logger.warning("Chromium did not stop within %s s; leaving it to exit", CLOSE_TIMEOUT)

        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=CLOSE_TIMEOUT)
        logger.info("TikTok client stopped after %d Chromium launches", self._launch_count)

    def _submit(self, username: str, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._closed:
                work.close()
                raise TikTokUnavailable(
                    username, f"The TikTok client is closed, so {username!r} was not requested", 1
                )
            if self._loop is None:
                self._start_loop()
            assert self._loop is not None
            return asyncio.run_coroutine_threadsafe(work, self._loop)

    def _start_loop(self) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="tiktok-client", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        atexit.register(self.close)
        logger.info("TikTok client loop started")

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _collect(self, username: str) -> Profile:
        session = await self._get_session(username)
        try:
            return await self._collect_with(session, username)
        except SessionDied as error:
            logger.warning("Chromium session died fetching %s: %s; relaunching", username, error)
            await self._discard(session)
            raise TikTokUnavailable(
                username,
                f"Chromium stopped while fetching {username!r} ({error}), and the next "
                "request relaunches it",
                RELAUNCH_RETRY_AFTER,
            ) from None
        finally:
            if session.recorder is not None:
                await session.recorder.save(username)

    async def _collect_with(self, session: BrowserSession, username: str) -> Profile:
        if session.router is not None:
            session.router.pop_missing(username)

        detail = await session.fetch_user_detail(username)
        self._raise_if_unrecorded(session, username)
        try:
            return parse_user_detail(detail.body, "api")
        except AccountMissing as error:
            raise _account_not_found(username, USER_DETAIL_REQUEST, error) from None
        except PayloadBlocked as error:
            api_reason = error.reason if detail.body is not None else detail.library_error

        # The user-detail API returns an empty body when TikTok wants signatures that TikTokApi
        # does not send (X-Gnarly); the profile page embeds the same user object.
        logger.info(
            "User detail of %s unusable (%s); reading the profile page", username, api_reason
        )
        try:
            return parse_profile_page(await session.fetch_profile_page(username))
        except AccountMissing as error:
            self._raise_if_unrecorded(session, username)
            raise _account_not_found(username, PROFILE_PAGE_REQUEST, error) from None
        except PageNotLoaded as error:
            self._raise_if_unrecorded(session, username)
            page_outcome = f"the {PROFILE_PAGE_REQUEST} failed ({error.reason})"
        except PayloadBlocked as error:
            self._raise_if_unrecorded(session, username)
            page_outcome = f"the {PROFILE_PAGE_REQUEST} with {error.reason}"

        raise TikTokBlocked(
            username,
            f"TikTok answered the {USER_DETAIL_REQUEST} for {username!r} with {api_reason}, "
            f"and {page_outcome}",
            max(1, round(self.settings.breaker_cooldown)),
        )

    def _raise_if_unrecorded(self, session: BrowserSession, username: str) -> None:
        if session.router is None:
            return

        missing = session.router.pop_missing(username)
        if not missing:
            return

        cassette = session.router.library.path_for(username)
        raise RecordingNotFound(
            username,
            f"The cassettes at {session.router.library.location} contain no recording of "
            f"{missing[0].method} {missing[0].url.split('?')[0]} for {username!r} "
            f"(expected in {cassette})",
            str(cassette),
        )

    async def _get_session(self, username: str) -> BrowserSession:
        if self._session is not None:
            return self._session

        # One launch at a time: every fetch that finds no browser awaits the same task
        # (the loop runs one coroutine at a time, so this check-and-set cannot race).
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._launch())

        try:
            # shield: a fetch that hits its deadline must not cancel the shared launch.
            return await asyncio.shield(self._starting)
        except BrowserNotFound as error:
            raise BrowserNotFound(
                username, f"Chromium is needed to fetch {username!r}, but {error.message}"
            ) from None
        except RecordingNotFound as error:
            raise RecordingNotFound(
                username, f"{error.message}, so {username!r} was not replayed", error.cassette
            ) from None
        except TimeoutError:
            raise TikTokUnavailable(
                username,
                f"Chromium did not start within {LAUNCH_TIMEOUT:g} s, so {username!r} was "
                "not requested",
                RELAUNCH_RETRY_AFTER,
            ) from None
        except (PlaywrightError, SessionDied) as error:
            raise TikTokUnavailable(
                username,
                f"Chromium failed to start ({first_line(str(error))}), so {username!r} was "
                "not requested",
                RELAUNCH_RETRY_AFTER,
            ) from None
        except Exception as error:
            # TikTokApi 7.3.3 raises bare Exception when it cannot open its sessions.
            if type(error) is not Exception:
                raise
            raise TikTokUnavailable(
                username,
                f"TikTokApi failed to open its sessions ({first_line(str(error))}), so "
                f"{username!r} was not requested",
                RELAUNCH_RETRY_AFTER,
            ) from None

    async def _launch(self) -> BrowserSession:
        started = time.monotonic()
        mode = self._mode()
        logger.info("Starting Chromium for TikTok (%s)", mode)

        session = BrowserSession(self.settings, on_launch=self._count_launch)
        try:
            await asyncio.wait_for(session.start(), LAUNCH_TIMEOUT)
        except BaseException as error:
            logger.error("Starting Chromium failed: %r", error)
            await session.close()
            self._starting = None
            raise

        self._session = session
        self._starting = None
        logger.info("Chromium ready in %.1f s (%s)", time.monotonic() - started, mode)
        return session

    def _count_launch(self) -> None:
        self._launch_count += 1

    def _mode(self) -> str:
        if self.settings.cassettes is not None and self.settings.record_to is not None:
            return f"replaying {self.settings.cassettes}, recording to {self.settings.record_to}"
        if self.settings.cassettes is not None:
            return f"replaying {self.settings.cassettes}"
        if self.settings.record_to is not None:
            return f"live, recording to {self.settings.record_to}"
        return "live"

    async def _discard(self, session: BrowserSession) -> None:
        if self._session is session:
            self._session = None
        await session.close()
        logger.info("Closed the dead Chromium session; the next fetch launches a new one")

    async def _shutdown(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
        session, self._session = self._session, None
        if session is not None:
            await session.close()
            logger.info("Stopped Chromium")

        # Fetches past their deadline and Playwright's route handlers may still wait.
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)


def _account_not_found(username: str, request: str, error: AccountMissing) -> AccountNotFound:
    return AccountNotFound(
        username,
        f"TikTok answered the {request} for {username!r} with {error.reason}, so the "
        "account does not exist or was banned",
    )


def _timeout_message(username: str, deadline: float, starting: bool) -> str:
    if starting:
        return (
            f"Chromium was still starting when the deadline of {deadline:g} s passed, so "
            f"{username!r} was not requested from TikTok"
        )
    return (
        f"TikTok did not answer the request for {username!r} within the deadline of {deadline:g} s"
    )
