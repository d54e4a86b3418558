"""Dodo's API rate limits: a burst window and a sustained window per business tier.

The API reference's introduction ("Rate Limits") publishes the numbers: Tier 0 (the default)
allows 40 requests a second and 240 a minute, Tier 1 100 and 1,000, Tier 2 500 and 5,000.
Answers carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`, and a 429
comes without `Retry-After` ("implement exponential backoff").
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Requests allowed per burst window (`second` seconds) and per sustained window (`minute`
    seconds). The window lengths only change so that tests can shrink time."""

    per_second: int = 40
    per_minute: int = 240
    second: float = 1.0
    minute: float = 60.0


TIER_0 = RateLimit(per_second=40, per_minute=240)
TIER_1 = RateLimit(per_second=100, per_minute=1_000)
TIER_2 = RateLimit(per_second=500, per_minute=5_000)
TIERS = {0: TIER_0, 1: TIER_1, 2: TIER_2}


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until the window that binds `remaining` starts afresh

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


# Assumption: Dodo does not publish its window algorithm; fixed windows aligned to multiples of
# the window length on the wall clock (`time.time`, so minutes start on the minute) are the
# simplest reading of "N a second, M a minute". The emulated `Clock` is not used: moving
# emulated time forward must not refill anyone's quota.
class RateLimiter:
    """Counts requests per account (business id, mode) in a burst and a sustained window."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # tests may swap in a fake to step through windows exactly
        self._lock = threading.Lock()
        # account -> [burst window index, its count, sustained window index, its count]
        self._counts: dict[tuple[str, str], list[int]] = {}

    def take(self, account: tuple[str, str], rule: RateLimit) -> Verdict:
        """Count one request for `account` unless either window is full."""
        # Assumption: a refused request does not use up quota (Dodo does not say).
        now = self.clock()
        burst, sustained = math.floor(now / rule.second), math.floor(now / rule.minute)
        with self._lock:
            counts = self._counts.setdefault(account, [burst, 0, sustained, 0])
            if counts[0] != burst:
                counts[0], counts[1] = burst, 0
            if counts[2] != sustained:
                counts[2], counts[3] = sustained, 0
            allowed = counts[1] < rule.per_second and counts[3] < rule.per_minute
            if allowed:
                counts[1] += 1
                counts[3] += 1
            burst_left, sustained_left = rule.per_second - counts[1], rule.per_minute - counts[3]
        burst_reset = (burst + 1) * rule.second - now
        sustained_reset = (sustained + 1) * rule.minute - now
        # The window with fewer requests left binds; on a tie, the one that resets later.
        if burst_left < sustained_left:
            reset = burst_reset
        elif sustained_left < burst_left:
            reset = sustained_reset
        else:
            reset = max(burst_reset, sustained_reset)
        return Verdict(
            allowed=allowed,
            # Assumption: the docs name the header but not which window's limit it carries;
            # the sustained (per-minute) limit is the one that bounds long jobs.
            limit=rule.per_minute,
            remaining=max(0, min(burst_left, sustained_left)),
            # Assumption: Reset counts seconds until the reset, not an epoch timestamp.
            reset=max(0, math.ceil(round(reset, 6))),
        )

    def reset(self) -> None:
        """Forget every count: every account starts with full windows."""
        with self._lock:
            self._counts.clear()
