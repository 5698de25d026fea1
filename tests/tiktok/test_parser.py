"""Parser tests on real TikTok bodies: the API's user detail and a profile page's object."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tiktok_support import DATA, load_body

from app.tiktok.parser import (
    EMPTY_BODY,
    NOT_JSON_BODY,
    AccountMissing,
    PayloadBlocked,
    extract_user_detail,
    parse_profile_page,
    parse_user_detail,
)


def profile_page_html(scope: dict) -> str:
    """Return a profile page whose rehydration script contains `scope` as TikTok embeds it."""
    data = json.dumps({"__DEFAULT_SCOPE__": scope}).replace("</", "<\\/")
    return (
        '<!DOCTYPE html><html><head><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" '
        f'type="application/json">{data}</script></head><body></body></html>'
    )


def test_user_detail_ids():
    profile = parse_user_detail(load_body("api-user-detail-ok-zg.520.json"), "api")

    assert profile.user_id == "6799838955094836230"
    assert profile.username == "zg.520"
    assert profile.sec_uid.startswith("MS4wLjABAAAA")


def test_user_detail_counts_from_stats_v2():
    profile = parse_user_detail(load_body("api-user-detail-ok-zg.520.json"), "api")

    assert profile.follower_count == 427682
    assert profile.following_count == 176
    assert profile.like_count == 6764096
    assert profile.video_count == 1605
    assert profile.digg_count == 0
    assert profile.friend_count == 53


def test_user_detail_text_fields():
    profile = parse_user_detail(load_body("api-user-detail-ok-zg.520.json"), "api")

    assert profile.nickname == "小邹旅行🇨🇳"
    assert profile.bio == "账号出售\uff0c需要的联系VX:example0000"
    assert profile.avatar_url.startswith("https://p16-common-sign.tiktokcdn-us.com/")
    assert profile.verified is False
    assert profile.private_account is False
    assert profile.source == "api"


def test_user_detail_absent_fields_are_none():
    profile = parse_user_detail(load_body("api-user-detail-ok-zg.520.json"), "api")

    assert profile.created_at is None
    assert profile.region is None
    assert profile.language is None
    assert profile.bio_link is None


def test_user_detail_payload_is_user_info():
    body = load_body("api-user-detail-ok-zg.520.json")

    profile = parse_user_detail(body, "api")

    assert profile.payload == body["userInfo"]


def test_user_detail_accepts_json_text():
    text = (DATA / "api-user-detail-ok-zg.520.json").read_text(encoding="utf-8")

    assert parse_user_detail(text, "api").follower_count == 427682


def test_profile_object_fields():
    profile = parse_user_detail(load_body("profile-page-user-detail-taylorswift.json"), "api")

    assert profile.user_id == "6881290705605477381"
    assert profile.created_at == datetime(2021, 8, 9, 13, 14, 7, tzinfo=UTC)
    assert profile.region == "US"
    assert profile.language == "en"
    assert profile.bio_link == "taylorswift.com"
    assert profile.verified is True


def test_profile_object_counts_fall_back_to_stats():
    profile = parse_user_detail(load_body("profile-page-user-detail-taylorswift.json"), "api")

    assert profile.follower_count == 32700000
    assert profile.like_count == 248100000
    assert profile.digg_count == 2204


def test_counts_prefer_stats_v2_over_wrapped_stats():
    body = load_body("api-user-detail-ok-zg.520.json")
    body["userInfo"]["stats"]["heartCount"] = -977433948
    body["userInfo"]["statsV2"]["heartCount"] = "11907467940"

    assert parse_user_detail(body, "api").like_count == 11907467940


def test_counts_drop_negative_stats():
    body = load_body("profile-page-user-detail-taylorswift.json")
    body["userInfo"]["stats"]["heartCount"] = -977433948

    assert parse_user_detail(body, "api").like_count is None


def test_counts_reject_beyond_int64():
    body = load_body("api-user-detail-ok-zg.520.json")
    body["userInfo"]["statsV2"]["followerCount"] = str(2**63)

    assert parse_user_detail(body, "api").follower_count is None


def test_not_found_10221():
    with pytest.raises(AccountMissing) as caught:
        parse_user_detail(load_body("api-user-detail-10221-not-found.json"), "api")

    assert caught.value.reason == "statusCode 10221"


def test_not_found_10202():
    body = load_body("api-user-detail-10221-not-found.json")
    body["statusCode"] = 10202

    with pytest.raises(AccountMissing):
        parse_user_detail(body, "api")


def test_not_found_empty_user_info_with_status_zero():
    body = load_body("api-user-detail-10221-not-found.json")
    body["statusCode"] = 0

    with pytest.raises(AccountMissing) as caught:
        parse_user_detail(body, "api")

    assert caught.value.reason == "an empty userInfo (statusCode 0)"


def test_private_10222_parses_with_flag():
    body = load_body("api-user-detail-ok-zg.520.json")
    body["statusCode"] = 10222

    profile = parse_user_detail(body, "api")

    assert profile.private_account is True
    assert profile.user_id == "6799838955094836230"


def test_private_flag_from_user_object():
    body = load_body("api-user-detail-ok-zg.520.json")
    body["userInfo"]["user"]["privateAccount"] = True

    assert parse_user_detail(body, "api").private_account is True


def test_captcha_is_blocked():
    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail(load_body("captcha-verify-10000.json"), "api")

    assert caught.value.reason == "a captcha"


@pytest.mark.parametrize("body", [None, "", b""], ids=["none", "text", "bytes"])
def test_empty_body_is_blocked(body):
    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail(body, "api")

    assert caught.value.reason == EMPTY_BODY


def test_empty_object_is_blocked():
    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail({}, "api")

    assert caught.value.reason == "an empty JSON object"


@pytest.mark.parametrize(
    "text",
    ["<html><body>502 Bad Gateway</body></html>", "{statusCode: -1}"],
    ids=["html", "unquoted-keys"],
)
def test_not_json_is_blocked(text):
    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail(text, "api")

    assert caught.value.reason == NOT_JSON_BODY


def test_not_json_reason_neutral():
    assert "detect" not in NOT_JSON_BODY
    assert "bot" not in NOT_JSON_BODY


def test_json_array_is_blocked():
    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail("[1, 2]", "api")

    assert caught.value.reason == "JSON that is not an object (list)"


def test_empty_user_is_blocked():
    body = load_body("api-user-detail-ok-zg.520.json")
    body["userInfo"]["user"] = {}

    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail(body, "api")

    assert caught.value.reason == "an empty user object (statusCode 0)"


def test_user_without_id_is_blocked():
    body = load_body("api-user-detail-ok-zg.520.json")
    del body["userInfo"]["user"]["id"]

    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail(body, "api")

    assert caught.value.reason == "a user object without an id (statusCode 0)"


def test_user_without_sec_uid_is_blocked():
    body = load_body("api-user-detail-ok-zg.520.json")
    del body["userInfo"]["user"]["secUid"]

    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail(body, "api")

    assert caught.value.reason == "a user object without a secUid (statusCode 0)"


def test_missing_status_code_named():
    body = load_body("api-user-detail-ok-zg.520.json")
    del body["statusCode"]
    del body["userInfo"]

    with pytest.raises(PayloadBlocked) as caught:
        parse_user_detail(body, "api")

    assert caught.value.reason == "a body without a userInfo object (no statusCode)"


def test_status_message_is_ignored():
    body = load_body("api-user-detail-ok-zg.520.json")
    body["statusMsg"] = "user not exist"

    assert parse_user_detail(body, "api").user_id == "6799838955094836230"


def test_extract_user_detail_from_page():
    user_detail = load_body("profile-page-user-detail-taylorswift.json")
    html = profile_page_html({"webapp.app-context": {}, "webapp.user-detail": user_detail})

    assert extract_user_detail(html) == user_detail


def test_profile_page_parses_with_source():
    user_detail = load_body("profile-page-user-detail-taylorswift.json")
    html = profile_page_html({"webapp.user-detail": user_detail})

    profile = parse_profile_page(html)

    assert profile.source == "profile_page"
    assert profile.username == "taylorswift"


def test_profile_page_without_user_detail_is_blocked():
    html = profile_page_html({"webapp.app-context": {"region": "US"}})

    with pytest.raises(PayloadBlocked) as caught:
        extract_user_detail(html)

    assert caught.value.reason == "HTML without the webapp.user-detail object"


def test_profile_page_without_script_is_blocked():
    with pytest.raises(PayloadBlocked) as caught:
        extract_user_detail("<html><body>Access denied</body></html>")

    assert caught.value.reason == "HTML without the __UNIVERSAL_DATA_FOR_REHYDRATION__ script"


def test_profile_page_captcha_is_blocked():
    text = (DATA / "captcha-verify-10000.json").read_text(encoding="utf-8")

    with pytest.raises(PayloadBlocked) as caught:
        extract_user_detail(text)

    assert caught.value.reason == "a captcha"


def test_profile_page_broken_script_is_blocked():
    html = '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">{"__DEFAULT_SCOPE__": </script>'

    with pytest.raises(PayloadBlocked, match="not JSON"):
        extract_user_detail(html)


def test_profile_page_not_found_user_detail():
    not_found = load_body("api-user-detail-10221-not-found.json")

    with pytest.raises(AccountMissing):
        parse_profile_page(profile_page_html({"webapp.user-detail": not_found}))
