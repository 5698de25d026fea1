"""Recording and replay at Playwright's routing layer, offline.

The recorder listens to the browser context's responses, so a replay router on the same
context plays the part of live TikTok: what the recorder writes must load with vcrpy, carry
no msToken, and replay to the same profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, async_playwright
from tiktok_support import CASSETTES
from vcr.cassette import Cassette

from app.tiktok.browser import CHROMIUM_ARGS, find_browser
from app.tiktok.cassettes import CassetteLibrary
from app.tiktok.replay import ReplayRouter

pytestmark = pytest.mark.browser


@pytest.fixture
def live_tiktok(tmp_path):
    """A cassette directory that plays the part of live TikTok."""
    directory = tmp_path / "live"
    directory.mkdir()
    for name in ("zg.520.yaml", "taylorswift.yaml"):
        shutil.copy(CASSETTES / name, directory / name)
    return directory


def test_recorder_writes_api_interaction(make_client, live_tiktok, tmp_path):
    recorded = tmp_path / "recorded"
    client = make_client(cassettes=live_tiktok, record_to=recorded, ms_token="secret-token")

    client.fetch_profile("zg.520")
    cassette = Cassette.load(path=str(recorded / "zg.520.yaml"))

    assert len(cassette.requests) == 1
    assert "uniqueId=zg.520" in cassette.requests[0].uri
    assert "msToken" not in cassette.requests[0].uri
    assert "X-Bogus" not in cassette.requests[0].uri
    assert b"427682" in cassette.responses[0]["body"]["string"]


def test_recorder_writes_profile_page(make_client, live_tiktok, tmp_path):
    recorded = tmp_path / "recorded"
    client = make_client(cassettes=live_tiktok, record_to=recorded)

    client.fetch_profile("taylorswift")
    cassette = Cassette.load(path=str(recorded / "taylorswift.yaml"))

    assert [request.path for request in cassette.requests] == ["/api/user/detail/", "/@taylorswift"]
    assert b"__UNIVERSAL_DATA_FOR_REHYDRATION__" in cassette.responses[1]["body"]["string"]


def test_recorder_output_never_holds_secrets(make_client, live_tiktok, tmp_path):
    recorded = tmp_path / "recorded"
    client = make_client(cassettes=live_tiktok, record_to=recorded, ms_token="secret-token")

    client.fetch_profile("zg.520")
    text = (recorded / "zg.520.yaml").read_text()

    assert "secret-token" not in text
    assert "msToken" not in text


def test_recorded_cassette_replays(make_client, live_tiktok, tmp_path):
    recorded = tmp_path / "recorded"
    recording = make_client(cassettes=live_tiktok, record_to=recorded)
    original = recording.fetch_profile("taylorswift")
    recording.close()

    replayed = make_client(cassettes=recorded).fetch_profile("taylorswift")

    assert replayed == original


@contextlib.asynccontextmanager
async def replaying_page() -> AsyncIterator[tuple[ReplayRouter, Page]]:
    """Yield a page in a Chromium context that replays the repository's cassettes."""
    async with async_playwright() as playwright:
        executable = find_browser(playwright.chromium.executable_path, None)
        browser = await playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS)
        )
        try:
            context = await browser.new_context()
            router = ReplayRouter(CassetteLibrary(CASSETTES))
            await router.install(context)
            yield router, await context.new_page()
        finally:
            await browser.close()


def test_replay_aborts_other_hosts():
    async def run() -> tuple[list[str], str]:
        async with replaying_page() as (router, page):
            await page.goto("https://www.tiktok.com/")
            outcome = await page.evaluate(
                "url => fetch(url).then(() => 'answered', error => 'failed: ' + error)",
                "https://example.com/collect",
            )
            return router.blocked, outcome

    blocked, outcome = asyncio.run(run())

    assert blocked == ["https://example.com/collect"]
    assert outcome.startswith("failed")


def test_replay_serves_signing_hook():
    async def run() -> object:
        async with replaying_page() as (_, page):
            await page.goto("https://www.tiktok.com/foryou")
            return await page.evaluate("window.byted_acrawler.frontierSign('/api/x')")

    assert "X-Bogus" in asyncio.run(run())


def test_replay_aborts_unrecorded_profile_page():
    async def run() -> str:
        async with replaying_page() as (_, page):
            try:
                await page.goto("https://www.tiktok.com/@nobody.here")
            except PlaywrightError as error:
                return error.message
            return "loaded"

    assert "ERR_BLOCKED_BY_CLIENT" in asyncio.run(run())


def test_signing_page_pings_on_mouse_move():
    async def run() -> str:
        async with replaying_page() as (_, page):
            await page.goto("https://www.tiktok.com/")
            # Past both timed pings, as when TikTokApi starts listening late.
            await page.wait_for_timeout(1000)

            async with page.expect_request("**/replay/ping", timeout=5000) as request:
                await page.mouse.move(20, 30)
            return (await request.value).url

    assert asyncio.run(run()) == "https://www.tiktok.com/replay/ping"
