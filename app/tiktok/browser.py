"""Find a Chromium to launch and the command-line flags it runs with."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable

from app.tiktok.errors import BrowserNotFound

logger = logging.getLogger(__name__)

# Names of a system Chromium on PATH, in order of preference (Debian ships `chromium`,
# Ubuntu's snap wrapper and older Debian `chromium-browser`, Google's package
# `google-chrome`).
SYSTEM_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")

# Flags for a container without a display and for a network that reaches only TikTok.
# --no-sandbox: containers and Lambda run as root or without user namespaces.
# --disable-dev-shm-usage: /dev/shm is 64 MB in Docker and absent on Lambda.
# --disable-gpu: there is no GPU.
# --disable-background-networking, --disable-component-update, --disable-sync,
# --no-first-run: stop Chromium's own calls to Google's hosts, which a closed network
# refuses many at a time.
# --disable-quic: QUIC (UDP) bypasses HTTP proxies.
# --single-process is left out on purpose: Chromium exits once its last context closes.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

INSTALL_HINT = (
    "Install one with 'python -m playwright install chromium' or 'apt-get install chromium', "
    "or set TIKTOK_BROWSER_PATH to a Chromium executable"
)


def find_browser(
    playwright_executable: str | None,
    configured_path: str | None,
    which: Callable[[str], str | None] = shutil.which,
) -> str:
    """Return the path of the Chromium to launch, or raise BrowserNotFound.

    TIKTOK_BROWSER_PATH comes first, because an explicit setting must win; then
    Playwright's own Chromium, which matches the Playwright version; then a system
    Chromium on PATH. The BrowserNotFound message is a clause that starts with the
    cause, so the client can put it after the username.
    """
    if configured_path:
        resolved = _resolve(configured_path, which)
        if resolved is None:
            raise BrowserNotFound(
                "",
                f"TIKTOK_BROWSER_PATH={configured_path!r} is not an executable file. Point "
                "TIKTOK_BROWSER_PATH at a Chromium executable, or remove it to use "
                "Playwright's Chromium or one on PATH",
            )
        logger.debug("Using the Chromium from TIKTOK_BROWSER_PATH at %s", resolved)
        return resolved

    if playwright_executable and os.path.isfile(playwright_executable):
        logger.debug("Using Playwright's Chromium at %s", playwright_executable)
        return playwright_executable

    for name in SYSTEM_BROWSER_NAMES:
        resolved = which(name)
        if resolved:
            logger.debug("Using the system Chromium %s at %s", name, resolved)
            return resolved

    raise BrowserNotFound(
        "",
        "no Chromium was found, because TIKTOK_BROWSER_PATH is unset, Playwright's own "
        f"Chromium is not installed and none of {', '.join(SYSTEM_BROWSER_NAMES)} is on "
        f"PATH. {INSTALL_HINT}",
    )


def _resolve(path: str, which: Callable[[str], str | None]) -> str | None:
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return which(path)
