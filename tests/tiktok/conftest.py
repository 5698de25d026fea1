"""Fixtures for the TikTok client's tests: replaying clients closed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tiktok_support import replay_settings

from app.tiktok import TikTokClient


@pytest.fixture
def make_client() -> Iterator[Callable[..., TikTokClient]]:
    """Build replaying clients with settings overrides; close them after the test."""
    clients: list[TikTokClient] = []

    def build(**overrides: Any) -> TikTokClient:
        client = TikTokClient(replay_settings(**overrides))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
