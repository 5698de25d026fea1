"""The filter on TikTokApi's logger: levels, msToken masking and long messages."""

from __future__ import annotations

import logging

import pytest

from app.tiktok.browser_session import (
    LIBRARY_MESSAGE_LIMIT,
    LibraryLogFilter,
    configure_library_logger,
)

CAPTCHA_DUMP = "Got an unexpected status code: {'code': '10000', 'type': 'verify'}"


@pytest.fixture
def library_logger():
    """A logger set up the way TikTokApi leaves its own, then configured by the client."""
    logger = logging.getLogger("tests.tiktok.library")
    logger.addHandler(logging.StreamHandler())
    logger.setLevel(logging.WARNING)
    configure_library_logger(logger)
    yield logger
    logger.filters.clear()


def library_records(caplog):
    return [record for record in caplog.records if record.name == "tests.tiktok.library"]


def test_configure_drops_tiktokapi_handler(library_logger):
    assert library_logger.handlers == []


def test_configure_inherits_level(library_logger):
    assert library_logger.level == logging.NOTSET


def test_configure_adds_filter_once(library_logger):
    configure_library_logger(library_logger)

    assert len(library_logger.filters) == 1
    assert isinstance(library_logger.filters[0], LibraryLogFilter)


def test_error_lowered_to_warning(library_logger, caplog):
    caplog.set_level(logging.DEBUG)

    library_logger.error("Session failed during fetch: Target closed")

    assert [record.levelno for record in library_records(caplog)] == [logging.WARNING]
    assert library_records(caplog)[0].levelname == "WARNING"


def test_body_dump_lowered_to_debug(library_logger, caplog):
    caplog.set_level(logging.DEBUG)

    library_logger.error(CAPTCHA_DUMP)

    assert [record.levelno for record in library_records(caplog)] == [logging.DEBUG]


def test_body_dump_dropped_above_debug(library_logger, caplog):
    caplog.set_level(logging.INFO)

    library_logger.error(CAPTCHA_DUMP)

    assert library_records(caplog) == []


def test_info_kept(library_logger, caplog):
    caplog.set_level(logging.INFO)

    library_logger.info("Failed a request, retrying (1/3)")

    assert [record.levelno for record in library_records(caplog)] == [logging.INFO]


def test_ms_token_masked(library_logger, caplog):
    caplog.set_level(logging.DEBUG)

    library_logger.error("Playwright error during request: /api/?msToken=secret-value&aid=1")

    assert "secret-value" not in caplog.text
    assert "msToken=***&aid=1" in caplog.text


def test_long_message_cut(library_logger, caplog):
    caplog.set_level(logging.DEBUG)

    library_logger.warning("x" * (LIBRARY_MESSAGE_LIMIT + 50))

    message = library_records(caplog)[0].getMessage()
    assert message.endswith(f"... ({LIBRARY_MESSAGE_LIMIT + 50} characters)")
