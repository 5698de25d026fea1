"""TikTok client: the only package that imports TikTokApi and Playwright.

`init_app(app)` stores a `TikTokClient` in `app.extensions["tiktok"]` and `get_client()`
returns the current app's client. The client is built, in order of preference, from:
- `init_app(app, client=...)`;
- `app.config["TIKTOK_CLIENT"]`, a ready client (tests share one to launch Chromium once);
- `TikTokSettings.from_env(os.environ)`, with `app.config["TIKTOK_SETTINGS"]` (a dict of
  `TikTokSettings` field names to values) applied on top.

Environment variables (see `TikTokSettings`): TIKTOK_MS_TOKEN, TIKTOK_SESSIONS,
TIKTOK_HEADLESS, TIKTOK_DEADLINE, TIKTOK_PROXY, TIKTOK_BROWSER_PATH, TIKTOK_CASSETTES,
TIKTOK_RECORD, TIKTOK_BREAKER_THRESHOLD, TIKTOK_BREAKER_COOLDOWN.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from flask import current_app

from app.tiktok.client import TikTokClient
from app.tiktok.errors import (
    AccountNotFound,
    BrowserNotFound,
    RecordingNotFound,
    TikTokBlocked,
    TikTokError,
    TikTokTimeout,
    TikTokUnavailable,
    UsernameRejected,
)
from app.tiktok.profile import Profile, ProfileSource
from app.tiktok.settings import InvalidSetting, TikTokSettings

if TYPE_CHECKING:
    from flask import Flask

EXTENSION_NAME = "tiktok"

__all__ = [
    "AccountNotFound",
    "BrowserNotFound",
    "InvalidSetting",
    "Profile",
    "ProfileSource",
    "RecordingNotFound",
    "TikTokBlocked",
    "TikTokClient",
    "TikTokError",
    "TikTokSettings",
    "TikTokTimeout",
    "TikTokUnavailable",
    "UsernameRejected",
    "get_client",
    "init_app",
]


def init_app(app: Flask, client: TikTokClient | None = None) -> TikTokClient:
    """Store the app's TikTok client in `app.extensions["tiktok"]`; start nothing."""
    if client is None:
        client = app.config.get("TIKTOK_CLIENT")
    if client is None:
        settings = TikTokSettings.from_env(os.environ)
        overrides = app.config.get("TIKTOK_SETTINGS") or {}
        if overrides:
            settings = dataclasses.replace(settings, **overrides)
        client = TikTokClient(settings)

    app.extensions[EXTENSION_NAME] = client
    return client


def get_client() -> TikTokClient:
    """Return the TikTok client of the current Flask app."""
    return current_app.extensions[EXTENSION_NAME]
