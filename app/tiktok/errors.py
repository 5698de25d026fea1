"""Exceptions raised by the TikTok client; nothing from TikTokApi or Playwright escapes it."""

from __future__ import annotations


class TikTokError(Exception):
    """Base class for every failure to collect a TikTok account.

    `message` names the username and what happened, starts with a capital letter and has
    no final period, so a caller can append its own advice. It gives no retry advice,
    because `retry_after` carries the wait where there is one.
    """

    def __init__(self, username: str, message: str) -> None:
        super().__init__(message)
        self.username = username
        self.message = message


class AccountNotFound(TikTokError):
    """TikTok has no such account, or it was banned (statusCode 10221 or 10202)."""


class TikTokBlocked(TikTokError):
    """TikTok sent a captcha, an empty or non-JSON body, or a payload without a usable user.

    TikTok sends all of these when it blocks automation, though a non-JSON body can also
    be one of its error pages. Each one counts toward the client's cool-down.
    """

    def __init__(self, username: str, message: str, retry_after: int) -> None:
        super().__init__(username, message)
        self.retry_after = retry_after


class TikTokUnavailable(TikTokBlocked):
    """The client cannot reach TikTok right now: the browser died or the cool-down is on."""


class TikTokTimeout(TikTokError):
    """TikTok did not respond within the service's deadline."""

    def __init__(self, username: str, message: str, deadline: float) -> None:
        super().__init__(username, message)
        self.deadline = deadline


class BrowserNotFound(TikTokError):
    """No Chromium could be found to launch; the message names the commands that install one."""


class RecordingNotFound(TikTokError):
    """Replay mode is on and no cassette contains a recording for this request."""

    def __init__(self, username: str, message: str, cassette: str) -> None:
        super().__init__(username, message)
        self.cassette = cassette


class UsernameRejected(TikTokError):
    """The username breaks TikTok's rule, so it was never sent to TikTok."""
