"""TikTokClient on the real TikTokApi and Chromium, replaying the committed cassettes."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tiktok_support import CASSETTES, chromium_pids, replay_settings

from app.tiktok import (
    AccountNotFound,
    BrowserNotFound,
    RecordingNotFound,
    TikTokBlocked,
    TikTokClient,
    TikTokTimeout,
    TikTokUnavailable,
    UsernameRejected,
    replay,
)
from app.tiktok.browser_session import LIBRARY_LOGGER_NAME

pytestmark = pytest.mark.browser

# html.error.user costs TikTokApi three tries over about 6 s before it gives up.
SHARED_DEADLINE = 20.0


@pytest.fixture(scope="module")
def client():
    """One warm client for the module, with a breaker that never opens."""
    client = TikTokClient(replay_settings(deadline=SHARED_DEADLINE, breaker_threshold=1000))
    yield client
    client.close()


def wait_until_running(client: TikTokClient, limit: float = 60.0) -> None:
    """Wait for a launch that outlived a fetch's deadline to finish."""
    stop = time.monotonic() + limit
    while not client.is_running and time.monotonic() < stop:
        time.sleep(0.1)


def test_fetch_zg_520(client):
    profile = client.fetch_profile("zg.520")

    assert profile.user_id == "6799838955094836230"
    assert profile.follower_count == 427682
    assert profile.like_count == 6764096
    assert profile.source == "api"


def test_fetch_normalises_username(client):
    assert client.fetch_profile(" @ZG.520 ").username == "zg.520"


def test_fetch_keeps_browser_warm(client):
    client.fetch_profile("zg.520")
    launches = client.launch_count

    client.fetch_profile("zg.520")

    assert client.launch_count == launches
    assert client.is_running is True


def test_fetch_falls_back_to_profile_page(client):
    profile = client.fetch_profile("taylorswift")

    assert profile.source == "profile_page"
    assert profile.user_id == "6881290705605477381"
    assert profile.bio_link == "taylorswift.com"


def test_fetch_private_account(client):
    profile = client.fetch_profile("private.account")

    assert profile.private_account is True
    assert profile.source == "api"


def test_fetch_renamed_account(client):
    profile = client.fetch_profile("zg.renamed")

    assert profile.username == "zg.renamed"
    assert profile.user_id == "6799838955094836230"


@pytest.mark.parametrize(
    ("username", "status_code"), [("missing.account", 10221), ("banned.account", 10202)]
)
def test_fetch_not_found(client, username, status_code):
    with pytest.raises(AccountNotFound) as caught:
        client.fetch_profile(username)

    assert caught.value.username == username
    assert caught.value.message == (
        f"TikTok answered the user-detail request for '{username}' with statusCode "
        f"{status_code}, so the account does not exist or was banned"
    )


# Every blocked cassette falls back to the profile page, so each message names both.
PAGE_WITHOUT_USER = "the profile-page request with HTML without the webapp.user-detail object"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        (
            "captcha.user",
            "TikTok answered the user-detail request for 'captcha.user' with a captcha, "
            "and the profile-page request with a captcha",
        ),
        (
            "empty.user.object",
            "TikTok answered the user-detail request for 'empty.user.object' with an empty "
            f"user object (statusCode 0), and {PAGE_WITHOUT_USER}",
        ),
        (
            "html.error.user",
            "TikTok answered the user-detail request for 'html.error.user' with a body that "
            "is not JSON (an HTML error page or a block page), "
            f"and {PAGE_WITHOUT_USER}",
        ),
        (
            "gnarly.blocked",
            "TikTok answered the user-detail request for 'gnarly.blocked' with an empty body "
            "(TikTok sends one when it detects automation), "
            f"and {PAGE_WITHOUT_USER}",
        ),
    ],
)
def test_fetch_blocked(client, username, message):
    with pytest.raises(TikTokBlocked) as caught:
        client.fetch_profile(username)

    assert type(caught.value) is TikTokBlocked
    assert caught.value.username == username
    assert caught.value.message == message
    assert caught.value.retry_after > 0


@pytest.mark.parametrize("username", ["captcha.user", "html.error.user"])
def test_fetch_blocked_logs_no_error(client, caplog, username):
    # TikTokApi's logger inherits the level of "app", which an app created earlier in
    # the session may have set to INFO.
    caplog.set_level(logging.DEBUG, logger="app")

    with pytest.raises(TikTokBlocked):
        client.fetch_profile(username)

    library = [record for record in caplog.records if record.name == LIBRARY_LOGGER_NAME]
    assert [record for record in library if record.levelno >= logging.ERROR] == []
    assert any(record.levelno == logging.DEBUG for record in library)


def test_fetch_unrecorded_username(client):
    with pytest.raises(RecordingNotFound) as caught:
        client.fetch_profile("nobody.here")

    assert caught.value.message == (
        f"The cassettes at {CASSETTES} contain no recording of GET "
        "https://www.tiktok.com/api/user/detail/ for 'nobody.here' "
        f"(expected in {CASSETTES / 'nobody.here.yaml'})"
    )
    assert caught.value.cassette == str(CASSETTES / "nobody.here.yaml")


def test_fetch_unrecorded_keeps_session(client):
    with pytest.raises(RecordingNotFound):
        client.fetch_profile("nobody.here")

    assert client.fetch_profile("zg.520").source == "api"


def test_fetch_invalid_username(client):
    with pytest.raises(UsernameRejected) as caught:
        client.fetch_profile("x")

    assert caught.value.message.startswith(
        "The username 'x' is not a valid TikTok username, because it has 1 "
    )
    assert caught.value.message.count("'x'") == 1


def test_fetch_script_username(client):
    with pytest.raises(UsernameRejected) as caught:
        client.fetch_profile("bad'); alert(1); //")

    assert caught.value.username == "bad'); alert(1); //"


def test_fetch_without_browser(make_client):
    client = make_client(browser_path="/nonexistent/chromium")

    with pytest.raises(BrowserNotFound) as caught:
        client.fetch_profile("zg.520")

    assert caught.value.message.startswith(
        "Chromium is needed to fetch 'zg.520', but TIKTOK_BROWSER_PATH='/nonexistent/chromium' "
        "is not an executable file."
    )
    assert "remove it to use Playwright's Chromium" in caught.value.message


def test_fetch_never_logs_ms_token(make_client, caplog):
    caplog.set_level(logging.DEBUG)
    # An app created earlier in the session may have set "app" to INFO.
    caplog.set_level(logging.DEBUG, logger="app")
    client = make_client(ms_token="secret-ms-token-value")

    client.fetch_profile("zg.520")

    assert "secret-ms-token-value" not in caplog.text


def test_client_constructed_launches_nothing():
    threads_before = threading.active_count()
    client = TikTokClient(replay_settings())

    assert client.launch_count == 0
    assert client.is_running is False
    assert threading.active_count() == threads_before
    client.close()


def test_concurrent_first_fetches_launch_once(make_client):
    client = make_client()

    with ThreadPoolExecutor(max_workers=8) as pool:
        profiles = list(pool.map(client.fetch_profile, ["zg.520"] * 8))

    assert {profile.user_id for profile in profiles} == {"6799838955094836230"}
    assert client.launch_count == 1


def test_deadline_raises_timeout(make_client):
    client = make_client(deadline=3.0)
    try:
        client.fetch_profile("zg.520")
    except TikTokTimeout:
        wait_until_running(client)

    with pytest.raises(TikTokTimeout) as caught:
        client.fetch_profile("slow.user")

    assert caught.value.deadline == 3.0
    assert caught.value.username == "slow.user"
    assert caught.value.message == (
        "TikTok did not answer the request for 'slow.user' within the deadline of 3 s"
    )


def test_deadline_while_starting(make_client):
    # Chromium cannot start within a millisecond, so the deadline passes during the launch.
    client = make_client(deadline=0.001)

    with pytest.raises(TikTokTimeout) as caught:
        client.fetch_profile("zg.520")

    assert caught.value.message == (
        "Chromium was still starting when the deadline of 0.001 s passed, so 'zg.520' was "
        "not requested from TikTok"
    )


def test_deadline_leaves_client_usable(make_client):
    client = make_client(deadline=3.0)
    try:
        client.fetch_profile("zg.520")
    except TikTokTimeout:
        wait_until_running(client)

    with pytest.raises(TikTokTimeout):
        client.fetch_profile("slow.user")

    assert client.fetch_profile("zg.520").source == "api"


def test_crash_then_relaunch(make_client):
    client = make_client()
    before = chromium_pids()
    client.fetch_profile("zg.520")
    launched = chromium_pids() - before
    assert len(launched) == 1

    os.kill(launched.pop(), signal.SIGKILL)

    with pytest.raises(TikTokUnavailable) as caught:
        client.fetch_profile("zg.520")
    assert caught.value.retry_after > 0
    assert caught.value.message.startswith("Chromium stopped while fetching 'zg.520' (")
    assert caught.value.message.endswith("), and the next request relaunches it")
    assert client.fetch_profile("zg.520").user_id == "6799838955094836230"
    assert client.launch_count == 2


def test_breaker_opens_after_blocks(make_client):
    client = make_client(breaker_threshold=2, breaker_cooldown=60)

    for _ in range(2):
        with pytest.raises(TikTokBlocked):
            client.fetch_profile("gnarly.blocked")

    with pytest.raises(TikTokUnavailable) as caught:
        client.fetch_profile("zg.520")
    assert 0 < caught.value.retry_after <= 60
    assert caught.value.message == (
        "TikTok blocked the last 2 requests, so calls to TikTok are paused for "
        f"{caught.value.retry_after} s and 'zg.520' was not requested"
    )


def test_breaker_closes_after_cooldown(make_client):
    client = make_client(breaker_threshold=1, breaker_cooldown=0.5)
    with pytest.raises(TikTokBlocked):
        client.fetch_profile("gnarly.blocked")

    while client.breaker.retry_after() is not None:
        time.sleep(0.1)

    assert client.fetch_profile("zg.520").user_id == "6799838955094836230"


def test_close_stops_browser(make_client):
    client = make_client()
    client.fetch_profile("zg.520")

    client.close()
    client.close()

    assert client.is_running is False


def test_fetch_after_close(make_client):
    client = make_client()
    client.close()

    with pytest.raises(TikTokUnavailable) as caught:
        client.fetch_profile("zg.520")

    assert caught.value.message == "The TikTok client is closed, so 'zg.520' was not requested"


def test_cassette_file_location(make_client):
    client = make_client(cassettes=Path(CASSETTES / "taylorswift.yaml"))

    assert client.fetch_profile("taylorswift").source == "profile_page"
    with pytest.raises(RecordingNotFound) as caught:
        client.fetch_profile("zg.520")
    assert caught.value.cassette == str(CASSETTES / "taylorswift.yaml")


def test_start_page_without_requests(make_client, monkeypatch, caplog):
    # The signing hook without any request after load: what TikTokApi gets when the
    # start page's requests went out before it listened.
    silent_page = replay.SIGNING_PAGE.replace('window.addEventListener("mousemove"', "//")
    silent_page = silent_page.replace("setTimeout(ping", "void (ping")
    monkeypatch.setattr(replay, "SIGNING_PAGE", silent_page)
    client = make_client()

    with caplog.at_level(logging.WARNING, logger="app.tiktok"):
        profile = client.fetch_profile("zg.520")

    assert profile.user_id == "6799838955094836230"
    assert "captured no request headers" in caplog.text
