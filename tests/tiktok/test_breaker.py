"""The circuit breaker, on a clock the tests move."""

from __future__ import annotations

import logging

from app.tiktok.breaker import CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_closed_below_threshold():
    breaker = CircuitBreaker(threshold=3, cooldown=60, clock=FakeClock())

    breaker.record_block("a.user")
    breaker.record_block("a.user")

    assert breaker.retry_after() is None


def test_breaker_opens_at_threshold():
    breaker = CircuitBreaker(threshold=3, cooldown=60, clock=FakeClock())

    for _ in range(3):
        breaker.record_block("a.user")

    assert breaker.retry_after() == 60


def test_breaker_counts_down():
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooldown=60, clock=clock)
    breaker.record_block("a.user")

    clock.now += 59.5

    assert breaker.retry_after() == 1


def test_breaker_closes_after_cooldown(caplog):
    caplog.set_level(logging.INFO)
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooldown=60, clock=clock)
    breaker.record_block("a.user")

    clock.now += 60

    assert breaker.retry_after() is None
    assert breaker.blocks_in_row == 0
    assert "cool-down over" in caplog.text


def test_breaker_logs_opening(caplog):
    caplog.set_level(logging.WARNING)
    breaker = CircuitBreaker(threshold=2, cooldown=30, clock=FakeClock())

    breaker.record_block("a.user")
    breaker.record_block("b.user")

    assert "2 requests in a row (last: b.user)" in caplog.text


def test_success_resets_count():
    breaker = CircuitBreaker(threshold=2, cooldown=60, clock=FakeClock())
    breaker.record_block("a.user")

    breaker.record_success()
    breaker.record_block("a.user")

    assert breaker.retry_after() is None
