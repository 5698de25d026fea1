"""A circuit breaker that stops calling TikTok for a while after blocks in a row."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Opens after `threshold` blocks in a row and stays open for `cooldown` seconds.

    While open, `retry_after()` returns the seconds left and callers must not call
    TikTok. A success closes it and resets the count. Thread-safe.
    """

    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._blocks_in_row = 0
        self._open_until: float | None = None

    @property
    def blocks_in_row(self) -> int:
        """Blocks counted since the last success."""
        return self._blocks_in_row

    def retry_after(self) -> int | None:
        """Return the whole seconds left while open, or None when TikTok may be called."""
        with self._lock:
            if self._open_until is None:
                return None

            left = self._open_until - self._clock()
            if left > 0:
                return max(1, math.ceil(left))

            self._open_until = None
            self._blocks_in_row = 0
            logger.info("TikTok cool-down over after %.0f s; calling TikTok again", self.cooldown)
            return None

    def record_block(self, username: str) -> None:
        """Count a block; open the breaker when the count reaches the threshold."""
        with self._lock:
            self._blocks_in_row += 1
            if self._blocks_in_row < self.threshold or self._open_until is not None:
                return

            self._open_until = self._clock() + self.cooldown
            logger.warning(
                "TikTok blocked %d requests in a row (last: %s); not calling TikTok for %.0f s",
                self._blocks_in_row,
                username,
                self.cooldown,
            )

    def record_success(self) -> None:
        """Reset the count of blocks in a row."""
        with self._lock:
            if self._blocks_in_row:
                logger.info(
                    "TikTok returned a usable response after %d blocks", self._blocks_in_row
                )
            self._blocks_in_row = 0
            self._open_until = None
