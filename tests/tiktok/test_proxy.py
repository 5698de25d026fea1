"""TIKTOK_PROXY split into the proxy settings that Playwright takes."""

from __future__ import annotations

import pytest

from app.tiktok.browser_session import playwright_proxy


def test_credentials_moved_out_of_server():
    proxy = playwright_proxy("http://user:secret@proxy.example:8080")

    assert proxy["server"] == "http://proxy.example:8080"
    assert proxy["username"] == "user"
    assert proxy["password"] == "secret"


def test_credentials_percent_decoded():
    proxy = playwright_proxy("http://us%3Aer:p%40ss@proxy.example:8080")

    assert proxy["username"] == "us:er"
    assert proxy["password"] == "p@ss"


@pytest.mark.parametrize(
    "url",
    ["http://proxy.example:3128", "socks5://[::1]:1080", "proxy.example:3128"],
)
def test_without_credentials_unchanged(url):
    assert playwright_proxy(url) == {"server": url}
