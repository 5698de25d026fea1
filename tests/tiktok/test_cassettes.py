"""Cassette loading and matching with vcrpy, and what each committed cassette holds."""

from __future__ import annotations

import pytest
from tiktok_support import CASSETTES
from vcr.cassette import Cassette

from app.tiktok.cassettes import (
    CassetteLibrary,
    recorded_request,
    recorded_response,
    username_of,
    write_cassette,
)
from app.tiktok.parser import (
    AccountMissing,
    PayloadBlocked,
    parse_profile_page,
    parse_user_detail,
)

DETAIL_URL = "https://www.tiktok.com/api/user/detail/"

# What TikTokApi sends: the identifying parameters among random and secret ones.
TIKTOKAPI_QUERY = (
    "?aid=1988&device_id=7305124880219375104&history_len=4&screen_width=1234"
    "&secUid=&uniqueId={username}&msToken=abc&X-Bogus=DFSzswVL"
)


@pytest.fixture(scope="module")
def library():
    return CassetteLibrary(CASSETTES)


def api_body(library, username):
    return library.find("GET", DETAIL_URL + TIKTOKAPI_QUERY.format(username=username)).body


def page_body(library, username):
    return library.find("GET", f"https://www.tiktok.com/@{username}").body.decode()


def test_match_ignores_random_parameters(library):
    assert library.find("GET", DETAIL_URL + TIKTOKAPI_QUERY.format(username="zg.520"))


def test_match_needs_same_username(library):
    assert library.find("GET", DETAIL_URL + TIKTOKAPI_QUERY.format(username="zg.521")) is None


def test_match_needs_same_method(library):
    url = DETAIL_URL + TIKTOKAPI_QUERY.format(username="zg.520")

    assert library.find("POST", url) is None


def test_match_needs_same_host(library):
    url = "https://m.tiktok.com/api/user/detail/" + TIKTOKAPI_QUERY.format(username="zg.520")

    assert library.find("GET", url) is None


def test_match_needs_same_path(library):
    url = "https://www.tiktok.com/api/post/item_list/" + TIKTOKAPI_QUERY.format(username="zg.520")

    assert library.find("GET", url) is None


def test_library_from_single_file():
    library = CassetteLibrary(CASSETTES / "zg.520.yaml")

    assert len(library.cassettes) == 1
    assert library.path_for("zg.520") == CASSETTES / "zg.520.yaml"


def test_library_missing_location(tmp_path):
    with pytest.raises(FileNotFoundError, match="TIKTOK_CASSETTES"):
        CassetteLibrary(tmp_path / "absent")


@pytest.mark.parametrize("delay", ["soon", "-1", "nan"])
def test_library_rejects_bad_delay(tmp_path, delay):
    slow = (CASSETTES / "slow.user.yaml").read_text()
    (tmp_path / "slow.user.yaml").write_text(slow.replace("- '40'", f"- '{delay}'"))

    with pytest.raises(ValueError, match="X-Replay-Delay-Seconds must be a number of seconds"):
        CassetteLibrary(tmp_path)


def test_slow_user_has_delay(library):
    recorded = library.find("GET", DETAIL_URL + TIKTOKAPI_QUERY.format(username="slow.user"))

    assert recorded.delay == 40.0
    assert "X-Replay-Delay-Seconds" not in recorded.headers


def test_username_of_api_and_page():
    assert username_of(DETAIL_URL + "?uniqueId=ZG.520") == "zg.520"
    assert username_of("https://www.tiktok.com/@taylorswift") == "taylorswift"
    assert username_of("https://www.tiktok.com/foryou") is None


def test_recorded_request_drops_secrets():
    request = recorded_request(
        "GET",
        DETAIL_URL + TIKTOKAPI_QUERY.format(username="zg.520") + "&verifyFp=verify_x",
        {"Cookie": "msToken=abc", "User-Agent": "Chrome"},
    )

    assert "msToken" not in request.uri
    assert "X-Bogus" not in request.uri
    assert "verifyFp" not in request.uri
    assert "uniqueId=zg.520" in request.uri
    assert "Cookie" not in request.headers
    assert request.headers["User-Agent"] == "Chrome"


def test_written_cassette_loads_with_vcrpy(tmp_path):
    path = tmp_path / "zg.520.yaml"
    request = recorded_request("GET", DETAIL_URL + "?uniqueId=zg.520&msToken=abc", {})
    response = recorded_response(
        200, "OK", [("Content-Type", "application/json"), ("Set-Cookie", "msToken=x")], b"{}"
    )

    write_cassette(path, [(request, response)])
    cassette = Cassette.load(path=str(path))

    assert cassette.requests[0].uri == DETAIL_URL + "?uniqueId=zg.520"
    assert cassette.responses[0]["headers"] == {"Content-Type": ["application/json"]}
    assert cassette.responses[0]["body"]["string"] == b"{}"


def test_cassette_zg_520(library):
    profile = parse_user_detail(api_body(library, "zg.520"), "api")

    assert profile.user_id == "6799838955094836230"
    assert profile.follower_count == 427682


def test_cassette_zg_renamed(library):
    renamed = parse_user_detail(api_body(library, "zg.renamed"), "api")
    original = parse_user_detail(api_body(library, "zg.520"), "api")

    assert renamed.username == "zg.renamed"
    assert renamed.user_id == original.user_id
    assert renamed.sec_uid == original.sec_uid


def test_cassette_taylorswift(library):
    assert api_body(library, "taylorswift") == b""
    assert parse_profile_page(page_body(library, "taylorswift")).user_id == "6881290705605477381"


def test_cassette_private_account(library):
    profile = parse_user_detail(api_body(library, "private.account"), "api")

    assert profile.private_account is True
    assert profile.follower_count == 0


@pytest.mark.parametrize("username", ["missing.account", "banned.account"])
def test_cassette_not_found(library, username):
    with pytest.raises(AccountMissing):
        parse_user_detail(api_body(library, username), "api")


@pytest.mark.parametrize(
    "username", ["captcha.user", "empty.user.object", "html.error.user", "gnarly.blocked"]
)
def test_cassette_blocked_on_both_sources(library, username):
    with pytest.raises(PayloadBlocked):
        parse_user_detail(api_body(library, username), "api")
    with pytest.raises(PayloadBlocked):
        parse_profile_page(page_body(library, username))
