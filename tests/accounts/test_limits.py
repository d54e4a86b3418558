from __future__ import annotations

import pytest

from bantico.accounts.limits import AddressLimiter, TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_address_limiter_is_a_sliding_window() -> None:
    clock = Clock()
    limiter = AddressLimiter(limit=3, window=60, clock=clock)
    for _ in range(3):
        limiter.check("10.0.0.1")
        limiter.fail("10.0.0.1")
        clock.now += 10
    with pytest.raises(TooManyAttempts, match="from your network") as caught:
        limiter.check("10.0.0.1")
    assert caught.value.retry_after == 30
    limiter.check("10.0.0.2")  # other addresses are unaffected
    clock.now += 30
    limiter.check("10.0.0.1")  # the first failure left the window


def test_address_limiter_memory_is_bounded() -> None:
    limiter = AddressLimiter(limit=1, window=60, clock=Clock(), max_keys=10)
    for n in range(25):
        limiter.fail(f"10.0.0.{n}")
    assert len(limiter._hits) <= 10
