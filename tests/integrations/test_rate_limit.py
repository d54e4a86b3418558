"""The shared request budget (bantico/integrations/rate_limit.py): its arithmetic, its timeline on
a fake clock, its sharing through the `rate_buckets` row by several limiters (processes), what it
learns from answers, and `LimitedTransport` against the Dodo emulator's limiter, first on a fake
clock and then over HTTP through the official SDK.

Dodo's documented limits (docs/dodo.md §1): Tier 0 allows 40 requests a second and 240 a minute,
answers carry `X-RateLimit-Limit/Remaining/Reset`, and a 429 comes without `Retry-After`.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate

import dodopayments
import httpx
import pytest
from sqlalchemy import Engine

from bantico.db import make_sessionmaker
from bantico.integrations.rate_limit import (
    MAX_BACKOFF,
    MAX_NAP,
    SLACK,
    Budget,
    LimitedTransport,
    RateBucket,
    RateLimiter,
    bucket_key,
    bucket_state,
    parse_wait,
    wait_needed,
)
from bantico_emulators.dodo.ratelimit import TIER_0, RateLimit
from bantico_emulators.dodo.ratelimit import RateLimiter as ProviderLimiter
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import TEST_KEY

# A whole second, 0.7 s into it (and 20.7 s into a minute): a fixed window ends 0.3 s after the
# fake clocks start, so a first burst straddles a boundary of Dodo's windows.
NOW = 1_700_000_000.7
TIER_0_BUDGET = Budget(per_minute=240, burst=40)  # Bantico's default, Dodo's Tier 0
KEY = bucket_key("dodo", "https://test.dodopayments.com", TEST_KEY)
OTHER_KEY = bucket_key("dodo", "https://test.dodopayments.com", "another key")
EPS = 1e-6  # float rounding of sums like `t + 60.0 + SLACK`


# -- helpers ----------------------------------------------------------------------------------


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = NOW) -> None:
        self.now = start
        self.naps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, f"asked to sleep {seconds!r} s"
        self.naps.append(seconds)
        self.now += seconds


def limiter_on(
    engine: Engine, clock: FakeClock, budget: Budget = TIER_0_BUDGET, key: str = KEY
) -> RateLimiter:
    """A limiter with its own sessionmaker, as a separate process would have."""
    return RateLimiter(make_sessionmaker(engine), key, budget, clock=clock, sleep=clock.sleep)


def stored(engine: Engine, key: str = KEY) -> RateBucket:
    with make_sessionmaker(engine)() as session:
        row = session.get(RateBucket, key)
        assert row is not None, "no rate_buckets row for the key"
        return row


def most_in_window(times: Sequence[float], width: float) -> int:
    """The most of `times` (sorted) inside any half-open window [t, t + width)."""
    return max((bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)), default=0)


def assert_within_budget(times: Sequence[float], budget: Budget) -> None:
    """Send times `times` (sorted) keep every rule of the budget, each window widened by SLACK."""
    burst = most_in_window(times, 1.0 + SLACK - EPS)
    assert burst <= budget.burst, f"{burst} requests within {1.0 + SLACK} s, burst {budget.burst}"
    minute = most_in_window(times, 60.0 + SLACK - EPS)
    assert minute <= budget.per_minute, (
        f"{minute} requests within {60.0 + SLACK} s, per_minute {budget.per_minute}"
    )
    # The token bucket: from any send to any later one, at most `burst` plus what refilled.
    for i, first in enumerate(times):
        for j in range(i, len(times)):
            allowed = budget.burst + (times[j] - first) / budget.interval + EPS
            assert j - i + 1 <= allowed, f"sends {i}..{j} overdraw the token bucket"


def send_all(limiters: Sequence[RateLimiter], clock: FakeClock, n: int) -> list[float]:
    """`n` requests, the limiters taking turns (one thread: each waits out its own turn on the
    shared clock); the times they went."""
    times: list[float] = []
    for i in range(n):
        limiters[i % len(limiters)].acquire()
        times.append(clock.now)
    return times


# -- wait_needed: the arithmetic ----------------------------------------------------------------


def test_wait_needed_is_zero_for_an_unused_budget() -> None:
    assert wait_needed([], 0.0, 0.0, NOW, TIER_0_BUDGET) == 0.0
    # a token bucket at its tolerance still has a token
    tat = NOW + (TIER_0_BUDGET.burst - 1) * TIER_0_BUDGET.interval
    assert wait_needed([], tat, 0.0, NOW, TIER_0_BUDGET) == 0.0


def test_wait_needed_waits_for_the_minute_log() -> None:
    b = Budget(per_minute=3, burst=10)
    full = [NOW - 50, NOW - 40, NOW - 30]
    assert wait_needed(full, 0.0, 0.0, NOW, b) == pytest.approx(60 + SLACK - 50)
    assert wait_needed(full[1:], 0.0, 0.0, NOW, b) == 0.0
    # a request older than the widened minute no longer counts; one inside the SLACK still does
    assert wait_needed([NOW - 60 - SLACK, *full[1:]], 0.0, 0.0, NOW, b) == 0.0
    assert wait_needed([NOW - 60.2, *full[1:]], 0.0, 0.0, NOW, b) == pytest.approx(SLACK - 0.2)
    # more in the log than the budget (a lowered budget, a process with a larger one): the
    # request that must leave is the per_minute-th newest, not the oldest
    five = [NOW - 55, NOW - 50, NOW - 40, NOW - 30, NOW - 20]
    assert wait_needed(five, 0.0, 0.0, NOW, b) == pytest.approx(60 + SLACK - 40)


def test_wait_needed_waits_for_the_burst_window() -> None:
    b = Budget(per_minute=100, burst=2)
    assert wait_needed([NOW - 1.2, NOW - 0.2], 0.0, 0.0, NOW, b) == pytest.approx(SLACK - 0.2)
    assert wait_needed([NOW - 1.2, NOW - 0.2], 0.0, 0.0, NOW, Budget(100, 3)) == 0.0
    # the second is widened by SLACK too
    assert wait_needed([NOW - 1.0 - SLACK, NOW - 0.2], 0.0, 0.0, NOW, b) == 0.0
    # three in the window with a burst of two: wait for the second newest to leave
    three = [NOW - 1.4, NOW - 0.9, NOW - 0.1]
    assert wait_needed(three, 0.0, 0.0, NOW, b) == pytest.approx(1 + SLACK - 0.9)


def test_wait_needed_waits_for_a_token() -> None:
    b = Budget(per_minute=60, burst=4)  # a token a second, four at most
    tolerance = (b.burst - 1) * b.interval
    assert wait_needed([], NOW + tolerance + 0.7, 0.0, NOW, b) == pytest.approx(0.7)
    assert wait_needed([], NOW + tolerance, 0.0, NOW, b) == 0.0
    assert wait_needed([], NOW - 100.0, 0.0, NOW, b) == 0.0  # an idle bucket is full, no more


def test_wait_needed_honours_blocked_until_and_takes_the_longest_wait() -> None:
    b = Budget(per_minute=3, burst=2)
    assert wait_needed([], 0.0, NOW + 5, NOW, b) == pytest.approx(5)
    assert wait_needed([], 0.0, NOW - 5, NOW, b) == 0.0
    sent = [NOW - 50, NOW - 40, NOW - 0.5]  # minute: 10.5 s; burst: none
    assert wait_needed(sent, 0.0, NOW + 3, NOW, b) == pytest.approx(10 + SLACK)
    assert wait_needed(sent, 0.0, NOW + 30, NOW, b) == pytest.approx(30)
    assert wait_needed(sent, NOW + 12 + 20, NOW + 3, NOW, b) == pytest.approx(12)


# -- parse_wait ---------------------------------------------------------------------------------

WHOLE = 1_700_000_000.0  # a whole second, so that an HTTP date is exact


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": formatdate(WHOLE + 30, usegmt=True)}, 30.0),
        ({"retry-after": formatdate(WHOLE - 30, usegmt=True)}, 0.0),
        ({"retry-after": "7", "x-ratelimit-reset": "3"}, 7.0),  # Retry-After wins
        ({"x-ratelimit-reset": "12"}, 12.0),  # seconds from now (what the emulator sends)
        ({"x-ratelimit-reset": str(int(WHOLE) + 12)}, 12.0),  # a Unix time
        ({"x-ratelimit-reset": str((int(WHOLE) + 12) * 1000)}, 12.0),  # in milliseconds
        ({"x-ratelimit-reset": str(int(WHOLE) - 12)}, 0.0),  # a Unix time gone by
        ({"retry-after": "soon", "x-ratelimit-reset": "3"}, 3.0),  # garbage falls through
        ({"retry-after": "", "x-ratelimit-reset": "3"}, 3.0),
        ({"retry-after": "5, 5", "x-ratelimit-reset": "3"}, 3.0),
        ({"retry-after": "Mon", "x-ratelimit-reset": "3"}, 3.0),
        ({"retry-after": "soon", "x-ratelimit-reset": "later"}, None),
        ({"x-ratelimit-reset": ""}, None),
        ({"x-ratelimit-limit": "240", "x-ratelimit-remaining": "0"}, None),
        ({}, None),
    ],
)
def test_parse_wait(headers: dict[str, str], expected: float | None) -> None:
    got = parse_wait(headers, WHOLE)
    assert got == (None if expected is None else pytest.approx(expected, abs=1e-6))


def test_parse_wait_reads_response_headers_in_any_case() -> None:
    assert parse_wait(httpx.Headers({"Retry-After": "4"}), WHOLE) == 4.0
    assert parse_wait(httpx.Headers({"X-RateLimit-Reset": "9"}), WHOLE) == 9.0


@pytest.mark.parametrize("garbage", ["inf", "Infinity", "1e400"])
def test_parse_wait_treats_non_finite_numbers_as_garbage(garbage: str) -> None:
    """Python's float() reads these as infinity; no header means it. Kept failing on purpose:
    observe() stores `blocked_until = inf` in the shared row, so every process on the key waits
    forever (acquire() naps MAX_NAP in a loop that never ends), across restarts."""
    got = parse_wait({"retry-after": garbage, "x-ratelimit-reset": "3"}, WHOLE)
    assert got == 3.0, (
        f"BUG rate_limit.parse_wait: Retry-After {garbage!r} read as a wait of {got!r} s "
        "instead of being skipped as garbage (falling through to X-RateLimit-Reset: 3)"
    )


# -- one limiter on a fake clock ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "minutes"), [(TIER_0_BUDGET, 2), (Budget(per_minute=50, burst=9), 3)]
)
def test_one_limiter_keeps_the_budget_and_its_long_run_rate(
    engine: Engine, budget: Budget, minutes: int
) -> None:
    clock = FakeClock()
    limiter = limiter_on(engine, clock, budget)
    n = minutes * budget.per_minute + 1
    times = send_all([limiter], clock, n)

    assert_within_budget(times, budget)
    # As fast as allowed: a whole burst goes at once, then the next burst as soon as the first
    # has left the widened second, and the long-run rate is per_minute per (60 + SLACK) s: the
    # k·per_minute-th request goes the moment the first of the previous minute leaves the log.
    # (times are absolute, so the token bucket's sums round to a few 10⁻⁷ s)
    assert times[budget.burst - 1] == pytest.approx(NOW, abs=EPS)
    assert times[budget.burst] == pytest.approx(NOW + 1 + SLACK, abs=EPS)
    for k in range(1, minutes + 1):
        assert times[k * budget.per_minute] - NOW == pytest.approx(k * (60 + SLACK), abs=EPS)
    assert limiter.stats.requests == n
    assert limiter.stats.waited == pytest.approx(times[-1] - NOW)
    assert max(clock.naps) <= MAX_NAP  # a long wait re-checks the shared row now and then
    # the row keeps only the last (widened) minute
    row = stored(engine)
    assert all(t > clock.now - 60 - SLACK for t in row.sent)
    assert len(row.sent) <= budget.per_minute


def test_the_first_request_of_a_new_key_does_not_wait(engine: Engine) -> None:
    clock = FakeClock()
    limiter = limiter_on(engine, clock)
    assert limiter.acquire() == 0.0 and clock.now == NOW
    with make_sessionmaker(engine)() as session:
        state = bucket_state(session, KEY, now=clock.now)
    assert state == {
        "usedLastMinute": 1,
        "blockedForSeconds": 0.0,
        "throttled": 0,
        "limitSeen": None,
    }


# -- limiters sharing a key ---------------------------------------------------------------------


def test_limiters_sharing_a_key_share_one_budget(engine: Engine) -> None:
    clock = FakeClock()
    budget = Budget(per_minute=50, burst=9)
    limiters = [limiter_on(engine, clock, budget) for _ in range(3)]
    n = 2 * budget.per_minute + 1
    times = send_all(limiters, clock, n)
    assert_within_budget(times, budget)
    assert times[budget.per_minute] - NOW == pytest.approx(60 + SLACK, abs=EPS)
    assert times[2 * budget.per_minute] - NOW == pytest.approx(2 * (60 + SLACK), abs=EPS)
    assert [limiter.stats.requests for limiter in limiters] == [34, 34, 33]


def test_a_new_limiter_on_a_used_key_waits_for_what_the_others_spent(engine: Engine) -> None:
    clock = FakeClock()
    first = limiter_on(engine, clock, Budget(per_minute=100, burst=3))
    for _ in range(3):
        assert first.acquire() == 0.0
    later = limiter_on(engine, clock, Budget(per_minute=100, burst=3))  # a process started now
    assert later.acquire() == pytest.approx(1 + SLACK)


def test_different_keys_do_not_share(engine: Engine) -> None:
    clock = FakeClock()
    budget = Budget(per_minute=100, burst=5)
    one, other = limiter_on(engine, clock, budget), limiter_on(engine, clock, budget, OTHER_KEY)
    for _ in range(budget.burst):
        assert one.acquire() == 0.0
    for _ in range(budget.burst):
        assert other.acquire() == 0.0
    assert clock.now == NOW  # neither waited for the other
    assert one.acquire() > 0 and other.acquire() == 0.0  # `one` waited the burst window out


def test_threads_sharing_a_key_lose_no_update(engine: Engine) -> None:
    """Real threads, real clock, a limiter each (as processes would have): the row is read and
    written under a lock, so every send is in the log and no window holds more than the burst."""
    budget = Budget(per_minute=600, burst=5)
    limiters = [RateLimiter(make_sessionmaker(engine), KEY, budget) for _ in range(3)]
    per_thread = 5
    went: list[float] = []
    lock = threading.Lock()

    def work(limiter: RateLimiter) -> None:
        for _ in range(per_thread):
            limiter.acquire()
            with lock:
                went.append(time.time())

    started = time.time()
    with ThreadPoolExecutor(len(limiters)) as pool:
        list(pool.map(work, limiters))
    total = per_thread * len(limiters)
    went.sort()
    # counted from the test's own record (taken after each acquire() returned, a little later
    # than the limiter's stamp, hence a plain second rather than the widened one)
    assert len(went) == total and most_in_window(went, 1.0) <= budget.burst
    row = stored(engine)
    assert len(row.sent) == total, f"{total - len(row.sent)} sends lost from the shared log"
    assert_within_budget(sorted(row.sent), budget)
    # bursts of 5 every 1.5 s: the third burst goes about 3 s in
    assert went[-1] - started < 2 * (1 + SLACK) + 1.0
    assert sum(limiter.stats.requests for limiter in limiters) == total


# -- observe: what the provider says ------------------------------------------------------------


def test_a_429_with_retry_after_blocks_every_limiter_on_the_key(engine: Engine) -> None:
    clock = FakeClock()
    told, other, stranger = (
        limiter_on(engine, clock),
        limiter_on(engine, clock),
        limiter_on(engine, clock, key=OTHER_KEY),
    )
    assert told.observe(429, {"retry-after": "7", "x-ratelimit-reset": "3"}) == 7.0
    assert stranger.acquire() == 0.0  # another key is not blocked
    assert other.acquire() == pytest.approx(7.0)
    assert clock.naps == [MAX_NAP, pytest.approx(7.0 - MAX_NAP)]
    assert told.acquire() == 0.0  # the block is over for everyone
    assert told.stats.throttled == 1 and other.stats.throttled == 0


def test_a_429_without_retry_after_waits_for_the_reset(engine: Engine) -> None:
    clock = FakeClock()
    told, other = limiter_on(engine, clock), limiter_on(engine, clock)
    headers = {"x-ratelimit-limit": "240", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"}
    assert told.observe(429, headers) == 3.0
    assert other.acquire() == pytest.approx(3.0)


def test_a_bare_429_backs_off_exponentially_by_attempt(engine: Engine) -> None:
    clock = FakeClock()
    limiter = limiter_on(engine, clock)
    waits = [limiter.observe(429, {}, attempt) for attempt in range(8)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, MAX_BACKOFF, MAX_BACKOFF]
    assert stored(engine).blocked_until == pytest.approx(NOW + MAX_BACKOFF)
    assert limiter.stats.throttled == 8


def test_a_bare_429_after_very_many_attempts_still_backs_off(engine: Engine) -> None:
    """Kept failing on purpose: `2.0**attempt` overflows before `min(MAX_BACKOFF, …)` caps it."""
    limiter = limiter_on(engine, FakeClock())
    try:
        wait = limiter.observe(429, {}, attempt=1100)
    except OverflowError as error:
        pytest.fail(f"BUG rate_limit.RateLimiter.observe(429, {{}}, attempt=1100): {error!r}")
    assert wait == MAX_BACKOFF


def test_a_429_that_says_go_now_still_waits_half_a_second(engine: Engine) -> None:
    limiter = limiter_on(engine, FakeClock())
    assert limiter.observe(429, {"retry-after": "0"}) == 0.5
    assert limiter.observe(429, {"x-ratelimit-reset": "0"}) == 0.5


def test_a_shorter_block_does_not_cut_a_longer_one(engine: Engine) -> None:
    clock = FakeClock()
    limiter, other = limiter_on(engine, clock), limiter_on(engine, clock)
    limiter.observe(429, {"retry-after": "10"})
    limiter.observe(429, {"retry-after": "1"})
    limiter.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"})
    assert other.acquire() == pytest.approx(10.0)


def test_remaining_zero_blocks_until_the_reset(engine: Engine) -> None:
    clock = FakeClock()
    told, other = limiter_on(engine, clock), limiter_on(engine, clock)
    headers = httpx.Headers(
        {"X-RateLimit-Limit": "240", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4"}
    )
    assert told.observe(200, headers) is None  # not a retry: nothing to wait before one
    assert other.acquire() == pytest.approx(4.0)
    assert told.stats.throttled == 0 and stored(engine).throttled == 0
    assert stored(engine).limit_seen == 240


def test_remaining_above_zero_does_not_block(engine: Engine) -> None:
    clock = FakeClock()
    told, other = limiter_on(engine, clock), limiter_on(engine, clock)
    headers = {"x-ratelimit-limit": "240", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "4"}
    assert told.observe(200, headers) is None
    assert other.acquire() == 0.0
    assert told.observe(503, {"retry-after": "9"}) is None  # only a 429 is a rate limit
    assert other.acquire() == 0.0


def test_throttled_counts_every_429_of_every_limiter(engine: Engine) -> None:
    clock = FakeClock()
    one, two = limiter_on(engine, clock), limiter_on(engine, clock)
    one.observe(429, {"retry-after": "1"})
    two.observe(429, {}, attempt=2)
    two.observe(429, {"x-ratelimit-reset": "1"})
    one.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"})
    assert (one.stats.throttled, two.stats.throttled) == (1, 2)
    with make_sessionmaker(engine)() as session:
        state = bucket_state(session, KEY, now=clock.now)
    assert state is not None and state["throttled"] == 3
    assert state["blockedForSeconds"] == 4.0  # two's backoff of 2² s is the longest


# -- LimitedTransport on a fake clock -----------------------------------------------------------


def scripted(
    clock: FakeClock, answers: list[tuple[int, dict[str, str]]], seen: list[tuple[float, bytes]]
) -> httpx.MockTransport:
    """Answers in turn; records when each request went, with its body."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((clock.now, request.read()))
        status, headers = answers[len(seen) - 1]
        return httpx.Response(status, headers=headers, json={"n": len(seen)})

    return httpx.MockTransport(handler)


def test_the_transport_waits_out_429s_and_sends_again(engine: Engine) -> None:
    clock = FakeClock()
    limiter = limiter_on(engine, clock)
    seen: list[tuple[float, bytes]] = []
    answers = [(429, {}), (429, {"x-ratelimit-reset": "5"}), (429, {}), (200, {})]
    transport = LimitedTransport(limiter, scripted(clock, answers, seen))
    with httpx.Client(transport=transport, base_url="https://dodo.test") as client:
        response = client.post("/payments", json={"amount": 1})
    assert response.status_code == 200 and response.json() == {"n": 4}
    # backoff 1 s (attempt 0), the Reset's 5 s, backoff 4 s (attempt 2)
    assert [t - NOW for t, _ in seen] == pytest.approx([0.0, 1.0, 6.0, 10.0])
    assert {body for _, body in seen} == {b'{"amount":1}'}  # the same body every time
    assert limiter.stats.throttled == 3
    assert limiter.stats.requests == 4  # every send spent from the budget
    assert len(stored(engine).sent) == 4


def test_the_transport_gives_up_after_max_wait(engine: Engine) -> None:
    clock = FakeClock()
    limiter = limiter_on(engine, clock)
    seen: list[tuple[float, bytes]] = []
    answers = [(429, {"retry-after": "100"})] * 5
    transport = LimitedTransport(limiter, scripted(clock, answers, seen), max_wait=150)
    with httpx.Client(transport=transport) as client:
        response = client.get("https://dodo.test/payments")
    assert response.status_code == 429 and response.json() == {"n": 2}
    assert [t - NOW for t, _ in seen] == pytest.approx([0.0, 100.0])


def test_the_transport_spends_from_the_budget_before_each_request(engine: Engine) -> None:
    clock = FakeClock()
    budget = Budget(per_minute=100, burst=3)
    limiter = limiter_on(engine, clock, budget)
    seen: list[tuple[float, bytes]] = []
    transport = LimitedTransport(limiter, scripted(clock, [(200, {})] * 7, seen))
    with httpx.Client(transport=transport) as client:
        for _ in range(7):
            assert client.get("https://dodo.test/payments").status_code == 200
    assert_within_budget([t for t, _ in seen], budget)
    assert seen[3][0] - NOW == pytest.approx(1 + SLACK)


# -- against the emulator's limiter on a fake clock ---------------------------------------------


class Provider:
    """Dodo's fixed windows (the emulator's limiter) on the fake clock. A request arrives some
    time after it left, never out of time order at the provider."""

    def __init__(self, clock: FakeClock, rule: RateLimit) -> None:
        self.clock, self.rule = clock, rule
        self.at = clock.now
        self.limiter = ProviderLimiter(clock=lambda: self.at)
        self.pending: list[float] = []  # arrival times, a heap
        self.refused = 0
        self.answered: list[int] = []

    def arrive(self, until: float) -> None:
        while self.pending and self.pending[0] <= until:
            self.at = heapq.heappop(self.pending)
            verdict = self.limiter.take(("bus", "test"), self.rule)
            self.answered.append(200 if verdict.allowed else 429)

    def sleep(self, seconds: float) -> None:
        self.arrive(self.clock.now + seconds)
        self.clock.sleep(seconds)


@pytest.mark.parametrize("piled", ["even", "odd"])
def test_the_default_budget_is_never_refused_by_dodos_tier_0(engine: Engine, piled: str) -> None:
    """Three processes spend Bantico's default budget against Dodo's Tier 0 windows (aligned to
    the wall clock). The worst case for fixed windows: the requests sent in the last 0.45 s
    (just under SLACK) before an even (odd) second arrive after it, the rest at once, so each
    even (odd) window, and each minute, gets all it can. Not one 429."""
    slow, parity = 0.45, 0 if piled == "even" else 1
    assert slow < SLACK
    clock = FakeClock(start=1_700_000_039.7)  # 0.3 s before a minute (an even second)
    provider = Provider(clock, TIER_0)
    limiters = [
        RateLimiter(
            make_sessionmaker(engine), KEY, TIER_0_BUDGET, clock=clock, sleep=provider.sleep
        )
        for _ in range(3)
    ]
    n = TIER_0_BUDGET.per_minute + 60  # past a minute, and a burst after it
    for i in range(n):
        limiters[i % 3].acquire()
        boundary = math.floor(clock.now) + 1
        late = boundary - clock.now <= slow and boundary % 2 == parity
        heapq.heappush(provider.pending, clock.now + (slow if late else 0.0))
    provider.arrive(math.inf)
    assert len(provider.answered) == n
    assert provider.answered.count(429) == 0, "Dodo refused requests the budget let go"


def test_a_budget_above_dodos_limit_is_throttled_and_waits(engine: Engine) -> None:
    """Bantico configured for Tier 1 against an account on Tier 0, sharing it with the merchant's
    own servers (up to two requests of theirs before each of ours): Dodo answers 429 without
    Retry-After; the transport waits for X-RateLimit-Reset and every request ends in a 200."""
    clock = FakeClock()
    rule = TIER_0
    provider = ProviderLimiter(clock=clock)
    ours: list[int] = []
    rng = random.Random(3)

    def dodo(request: httpx.Request) -> httpx.Response:
        for _ in range(rng.choice([0, 1, 2])):  # the merchant's own requests
            provider.take(("bus", "test"), rule)
        verdict = provider.take(("bus", "test"), rule)
        ours.append(200 if verdict.allowed else 429)
        return httpx.Response(ours[-1], headers=verdict.headers(), json={})

    limiter = limiter_on(engine, clock, Budget(per_minute=1000, burst=100))
    transport = LimitedTransport(limiter, httpx.MockTransport(dodo))
    n = 150
    with httpx.Client(transport=transport) as client:
        statuses = [client.get("https://dodo.test/payments").status_code for _ in range(n)]
    assert statuses == [200] * n
    assert ours.count(200) == n and ours.count(429) > 0
    assert limiter.stats.throttled == ours.count(429) == stored(engine).throttled
    # It waited for the windows rather than hammering: no more 429s than windows it crossed.
    windows = int((clock.now - NOW) // rule.second) + 1
    assert ours.count(429) <= windows


# -- against the emulator over HTTP, through the SDK --------------------------------------------


def list_payments(emulator: RunningEmulator, limiter: RateLimiter, calls: int) -> None:
    """`calls` listings through the official SDK, every request through `limiter`."""
    http_client = dodopayments.DefaultHttpxClient(transport=LimitedTransport(limiter))
    with dodopayments.DodoPayments(
        bearer_token=TEST_KEY, base_url=emulator.test_url, max_retries=0, http_client=http_client
    ) as client:
        for _ in range(calls):
            client.payments.list(page_size=1, page_number=0)


def test_over_http_a_budget_above_the_emulators_waits_out_its_429s(
    emulator: RunningEmulator, engine: Engine
) -> None:
    """The limiter allows far more than the emulator (shrunk windows: 8 a second, 24 in two
    seconds); four threads, a limiter each on the same key. Every call succeeds, though the
    emulator refused some, and the limiters counted each refusal."""
    emulator.state.options.rate_limit = RateLimit(
        per_second=8, second=1.0, per_minute=24, minute=2.0
    )
    budget = Budget(per_minute=6000, burst=1000)
    limiters = [RateLimiter(make_sessionmaker(engine), KEY, budget) for _ in range(4)]
    with ThreadPoolExecutor(len(limiters)) as pool:
        list(pool.map(lambda limiter: list_payments(emulator, limiter, 10), limiters))
    requests = emulator.state.requests
    assert requests.by_status().get(200) == 40  # and no SDK exception
    assert requests.too_many > 0
    assert sum(limiter.stats.throttled for limiter in limiters) == requests.too_many
    assert stored(engine).throttled == requests.too_many


def test_over_http_a_budget_inside_the_emulators_is_never_refused(
    emulator: RunningEmulator, engine: Engine
) -> None:
    """Two threads, a limiter each on the same key, with the emulator's own numbers (10 a second
    and 600 a minute; a per_minute this high keeps the token bucket from slowing the test):
    30 requests, three bursts, not one 429."""
    emulator.state.options.rate_limit = RateLimit(
        per_second=10, second=1.0, per_minute=600, minute=60.0
    )
    budget = Budget(per_minute=600, burst=10)
    limiters = [RateLimiter(make_sessionmaker(engine), KEY, budget) for _ in range(2)]
    with ThreadPoolExecutor(len(limiters)) as pool:
        list(pool.map(lambda limiter: list_payments(emulator, limiter, 15), limiters))
    requests = emulator.state.requests
    assert requests.too_many == 0, f"the emulator refused {requests.too_many} requests"
    assert requests.total == 30
    assert sum(limiter.stats.throttled for limiter in limiters) == 0


def test_a_locked_sqlite_file_falls_back_to_this_process(engine: Engine) -> None:
    """A request connecting Dodo may hold SQLite's write lock itself: the budget waits a
    second for the row, then counts in this process instead of failing."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the row, not the file")
    clock = FakeClock()
    shared = limiter_on(engine, clock)
    with engine.connect() as holder:
        holder.exec_driver_sql("BEGIN IMMEDIATE")
        started = time.monotonic()
        for _ in range(41):
            shared.acquire()
        assert time.monotonic() - started < 10  # one wait for the lock, not one a request
        assert clock() > NOW  # the 41st waited: the local budget still counts
        holder.exec_driver_sql("ROLLBACK")
