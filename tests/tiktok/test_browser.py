"""Chromium discovery and flags."""

from __future__ import annotations

import stat

import pytest

from app.tiktok import BrowserNotFound
from app.tiktok.browser import CHROMIUM_ARGS, find_browser


def no_browser_on_path(name):
    return None


def chromium_on_path(name):
    return "/usr/bin/chromium" if name == "chromium" else None


@pytest.fixture
def executable(tmp_path):
    path = tmp_path / "chrome"
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_configured_path_first(executable, tmp_path):
    playwright_chromium = tmp_path / "playwright-chrome"
    playwright_chromium.write_text("#!/bin/sh\n")

    found = find_browser(str(playwright_chromium), executable, which=chromium_on_path)

    assert found == executable


def test_playwright_chromium_before_path(executable):
    found = find_browser(executable, None, which=chromium_on_path)

    assert found == executable


def test_configured_path_when_playwright_missing(executable):
    found = find_browser("/missing/chrome", executable, which=no_browser_on_path)

    assert found == executable


def test_configured_name_on_path():
    found = find_browser(None, "chromium", which=lambda name: f"/usr/bin/{name}")

    assert found == "/usr/bin/chromium"


def test_configured_path_invalid():
    with pytest.raises(BrowserNotFound, match="TIKTOK_BROWSER_PATH='/missing/chrome'"):
        find_browser(None, "/missing/chrome", which=no_browser_on_path)


def test_configured_path_invalid_never_falls_back(executable):
    with pytest.raises(BrowserNotFound):
        find_browser(executable, "/missing/chrome", which=chromium_on_path)


def test_system_names_in_order():
    on_path = {"chromium-browser": "/usr/bin/chromium-browser", "google-chrome": "/opt/gc"}

    assert find_browser(None, None, which=on_path.get) == "/usr/bin/chromium-browser"


def test_none_found_says_how_to_install():
    with pytest.raises(BrowserNotFound) as caught:
        find_browser("/missing/chrome", None, which=no_browser_on_path)

    assert "python -m playwright install chromium" in caught.value.message
    assert "apt-get install chromium" in caught.value.message
    assert "TIKTOK_BROWSER_PATH" in caught.value.message


def test_args_suit_containers():
    assert "--no-sandbox" in CHROMIUM_ARGS
    assert "--disable-dev-shm-usage" in CHROMIUM_ARGS
    assert "--disable-background-networking" in CHROMIUM_ARGS
    assert "--disable-quic" in CHROMIUM_ARGS


def test_args_avoid_single_process():
    assert "--single-process" not in CHROMIUM_ARGS
