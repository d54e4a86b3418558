"""The request budget of a provider key, shared through the database (several limiters on one
key behave as one), and what it learns from the provider's answers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import dodopayments
import pytest
from sqlalchemy import Engine

from bantico.db import make_sessionmaker
from bantico.dodo_emulator import EmulatorOptions, EmulatorState, RateLimit, run_emulator
from bantico.dodo_emulator.state import TEST_KEY
from bantico.integrations.rate_limit import (
    SLACK,
    Budget,
    LimitedTransport,
    RateBucket,
    RateLimiter,
    parse_wait,
    wait_needed,
)

BUDGET = Budget(per_minute=240, burst=40)
NOW = 1_800_000_000


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def limiter(
    engine: Engine, clock: FakeClock, key: str = "k", budget: Budget = BUDGET
) -> RateLimiter:
    """A limiter with its own sessions, as another process would have."""
    return RateLimiter(make_sessionmaker(engine), key, budget, clock=clock, sleep=clock.sleep)


def most_in_any(window: float, times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered))


def test_wait_needed_counts_each_window() -> None:
    now = 100.0
    assert wait_needed([], 0.0, 0.0, now, BUDGET) == 0
    assert wait_needed([], 0.0, now + 5, now, BUDGET) == pytest.approx(5)  # blocked by Dodo
    # A full burst in the last second: the oldest of them must leave the window first.
    burst = [now - 0.5 + i * 0.01 for i in range(40)]
    assert wait_needed(burst, 0.0, 0.0, now, BUDGET) == pytest.approx(1.0 + SLACK - 0.5)
    assert wait_needed(burst[:39], 0.0, 0.0, now, BUDGET) == 0
    # A full minute, spread out: the oldest leaves after 60 s (and the slack).
    minute = [now - 59 + i * 0.2 for i in range(240)]
    assert wait_needed(minute, 0.0, 0.0, now, BUDGET) == pytest.approx(1 + SLACK)
    # The bucket: a theoretical arrival time far ahead means wait for it, less the burst.
    assert wait_needed([], now + 20, 0.0, now, BUDGET) == pytest.approx(20 - 39 * 0.25)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7),
        ({"x-ratelimit-reset": "12"}, 12),
        ({"x-ratelimit-reset": str(NOW + 30)}, 30),  # a Unix time
        ({"x-ratelimit-reset": str((NOW + 30) * 1000)}, 30),  # in milliseconds
        ({"retry-after": "soon", "x-ratelimit-reset": "3"}, 3),
        ({"retry-after": "-4"}, 0),
        ({}, None),
        ({"x-ratelimit-reset": "tomorrow"}, None),
    ],
)
def test_parse_wait(headers: dict[str, str], expected: float | None) -> None:
    assert parse_wait(headers, NOW) == (
        None if expected is None else pytest.approx(expected)
    )


def test_parse_wait_reads_an_http_date() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
    when = format_datetime(datetime(2026, 12, 1, 12, 0, 45, tzinfo=UTC), usegmt=True)
    assert parse_wait({"retry-after": when}, now) == pytest.approx(45)


def test_one_limiter_keeps_to_the_burst_and_the_minute(engine: Engine) -> None:
    clock = FakeClock()
    shared = limiter(engine, clock)
    sent = []
    for _ in range(600):
        shared.acquire()
        sent.append(clock())
    assert most_in_any(1.0, sent) <= 40
    assert most_in_any(60.0, sent) <= 240
    # Over ten minutes it runs at the sustained rate: no faster, and not much slower.
    elapsed = sent[-1] - sent[0]
    assert 600 / 240 * 60 * 0.97 <= elapsed + 60 <= 600 / 240 * 60 * 1.1 + 60


def test_limiters_on_one_key_share_the_budget(engine: Engine) -> None:
    clock = FakeClock()
    processes = [limiter(engine, clock) for _ in range(3)]
    other_key = limiter(engine, clock, key="another")
    sent = []
    for i in range(300):
        processes[i % 3].acquire()
        sent.append(clock())
    assert most_in_any(1.0, sent) <= 40 and most_in_any(60.0, sent) <= 240
    # Another key starts with a full burst: it does not share.
    before = clock()
    for _ in range(40):
        other_key.acquire()
    assert clock() == before


def test_threads_in_several_limiters_lose_no_update(engine: Engine) -> None:
    """Real threads, real time: what each request recorded, never more than the budget."""
    budget = Budget(per_minute=600, burst=5)
    processes = [RateLimiter(make_sessionmaker(engine), "threads", budget) for _ in range(2)]
    sent: list[float] = []
    lock = threading.Lock()

    def work(limiter_: RateLimiter) -> None:
        for _ in range(5):
            limiter_.acquire()
            with lock:
                sent.append(time.time())

    threads = [threading.Thread(target=work, args=(p,)) for p in processes for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 20
    assert most_in_any(1.0, sent) <= 5
    with processes[0].factory() as session:  # every request is in the shared log: none lost
        assert len(session.get(RateBucket, "threads").sent) == 20  # type: ignore[union-attr]


def test_a_429_blocks_every_limiter_on_the_key(engine: Engine) -> None:
    clock = FakeClock()
    one, two = limiter(engine, clock), limiter(engine, clock)
    assert one.observe(429, {"retry-after": "30"}) == 30
    before = clock()
    two.acquire()
    assert clock() - before == pytest.approx(30, abs=0.01)
    assert one.stats.throttled == 1


def test_a_429_without_retry_after_uses_reset_then_backs_off(engine: Engine) -> None:
    clock = FakeClock()
    shared = limiter(engine, clock)
    assert shared.observe(429, {"x-ratelimit-reset": "9"}) == 9
    assert shared.observe(429, {}, attempt=0) == 1
    assert shared.observe(429, {}, attempt=3) == 8
    assert shared.observe(429, {}, attempt=20) == 60  # capped


def test_remaining_zero_waits_for_the_reset(engine: Engine) -> None:
    clock = FakeClock()
    shared = limiter(engine, clock)
    assert shared.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4"}) is None
    before = clock()
    shared.acquire()
    assert clock() - before == pytest.approx(4, abs=0.01)
    assert shared.observe(200, {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "4"}) is None


def sdk(url: str, limiter_: RateLimiter) -> dodopayments.DodoPayments:
    transport = LimitedTransport(limiter_)
    return dodopayments.DodoPayments(
        bearer_token=TEST_KEY,
        base_url=url,
        max_retries=0,
        http_client=dodopayments.DefaultHttpxClient(transport=transport),
    )


def test_dodo_refusing_more_than_the_budget_only_slows_requests(engine: Engine) -> None:
    """Bantico configured above the account's tier, and the merchant's own server spending the
    same allowance: Dodo answers 429 (no Retry-After) and every call still succeeds."""
    limit = RateLimit(per_second=5, per_minute=12, second=1.0, minute=2.0)
    with EmulatorState(EmulatorOptions(rate_limit=limit)) as state, run_emulator(state) as dodo:
        with dodopayments.DodoPayments(
            bearer_token=TEST_KEY, base_url=dodo.test_url, max_retries=0
        ) as merchant:
            for _ in range(5):
                merchant.payments.list(page_size=1, page_number=0)
        generous = RateLimiter(make_sessionmaker(engine), "generous", Budget(6000, 100))
        with sdk(dodo.test_url, generous) as client:
            for _ in range(20):
                client.payments.list(page_size=1, page_number=0)
        assert generous.stats.throttled >= 1 and state.requests.too_many >= 1
        # After the first 429 it reads X-RateLimit-Remaining and waits before Dodo refuses.
        assert state.requests.too_many <= 3


def test_a_budget_within_dodos_limit_is_never_refused(engine: Engine) -> None:
    limit = RateLimit(per_second=5, per_minute=300, second=1.0, minute=60.0)
    with EmulatorState(EmulatorOptions(rate_limit=limit)) as state, run_emulator(state) as dodo:
        factory = make_sessionmaker(engine)
        budget = Budget(per_minute=300, burst=5)
        clients = [sdk(dodo.test_url, RateLimiter(factory, "within", budget)) for _ in range(2)]

        def work(client: dodopayments.DodoPayments) -> None:
            for _ in range(8):
                client.payments.list(page_size=1, page_number=0)

        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
        assert state.requests.total == 16 and state.requests.too_many == 0
