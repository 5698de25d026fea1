"""Helpers for the TikTok client's tests: real bodies, cassettes, Chromium processes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from app.tiktok import TikTokSettings

DATA = Path(__file__).parent / "data"
CASSETTES = Path(__file__).parents[1] / "cassettes"


def load_body(name: str) -> Any:
    """Return a real TikTok body from tests/tiktok/data, parsed from JSON."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def replay_settings(cassettes: Path = CASSETTES, **overrides: Any) -> TikTokSettings:
    """Return settings that replay `cassettes`, headless, with the given overrides."""
    return TikTokSettings(cassettes=cassettes, **overrides)


def chromium_pids() -> set[int]:
    """Return the PIDs of Chromium browser processes started by this test process."""
    own = str(os.getpid())
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            grandparent = (Path("/proc") / parent / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        is_browser = b"--remote-debugging-pipe" in arguments
        is_child_process = any(argument.startswith(b"--type=") for argument in arguments)
        if is_browser and not is_child_process and grandparent == own:
            pids.add(int(entry.name))
    return pids
