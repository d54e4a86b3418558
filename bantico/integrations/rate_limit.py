"""One request budget per provider API key, shared through the database by every process and job
that calls the provider with that key (webhook completions, backfill, reconciliation, the CLI).

A request may go when all of these hold (docs/dodo.md §1: Dodo's Tier 0 allows 40 requests a
second as a burst and 240 a minute sustained, and does not say how it counts them):

- fewer than `per_minute` requests in the last minute (a sliding log);
- fewer than `burst` requests in the last second;
- a token bucket of `burst` tokens refilled at `per_minute` a minute has a token.

Together they stay inside the allowance whether the provider counts with fixed windows, sliding
windows or a bucket. Each window is widened by `SLACK` seconds, because the provider stamps a
request when it arrives, later than we stamp it when it leaves.

What the provider says wins over what we count: a 429 or `X-RateLimit-Remaining: 0` blocks every
process until `Retry-After` or `X-RateLimit-Reset` (or an exponential backoff when it gives
neither), so a budget shared with the merchant's own servers is respected too.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import JSON, Engine, Float, String, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from bantico.db import Base, insert_ignoring_conflicts, make_engine, utcnow

log = logging.getLogger("bantico.rate_limit")

SLACK = 0.5
MAX_BACKOFF = 60.0
# A blocked request re-checks at least this often, so a budget freed by another process is used.
MAX_NAP = 5.0
LOCK_WAIT_MS = 1000
LOCAL_FOR = 10.0


class RateBucket(Base):
    """The shared state of one key's budget. `key` is a hash; the API key is never stored here."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent: Mapped[list[float]] = mapped_column(JSON)  # send times within the last minute
    tat: Mapped[float] = mapped_column(Float)  # the token bucket's theoretical arrival time
    blocked_until: Mapped[float] = mapped_column(Float)
    throttled: Mapped[int] = mapped_column(default=0)  # 429s answered to this key
    limit_seen: Mapped[int | None]  # the last X-RateLimit-Limit
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Budget:
    per_minute: int
    burst: int

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute


def bucket_key(provider: str, base_url: str, api_key: str) -> str:
    return hashlib.sha256(f"{provider}\n{base_url}\n{api_key}".encode()).hexdigest()


def wait_needed(
    sent: list[float], tat: float, blocked_until: float, now: float, b: Budget
) -> float:
    """Seconds until a request may go at `now` (0: it may go now). `sent` is sorted."""
    waits = [blocked_until - now]
    recent = [t for t in sent if t > now - 60.0 - SLACK]
    if len(recent) >= b.per_minute:
        waits.append(recent[len(recent) - b.per_minute] + 60.0 + SLACK - now)
    last_second = [t for t in recent if t > now - 1.0 - SLACK]
    if len(last_second) >= b.burst:
        waits.append(last_second[len(last_second) - b.burst] + 1.0 + SLACK - now)
    waits.append(tat - (b.burst - 1) * b.interval - now)
    return max(0.0, *waits)


def parse_wait(headers: Mapping[str, str], now: float) -> float | None:
    """`Retry-After` (seconds or an HTTP date), else `X-RateLimit-Reset`. Dodo does not say
    whether Reset is seconds from now or a Unix time (docs/dodo.md §1): a value past 10⁹ is
    read as a Unix time (10¹² and more in milliseconds), anything smaller as seconds."""
    for name in ("retry-after", "x-ratelimit-reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
            if not math.isfinite(number):
                continue  # a broken proxy's "inf" must not block every process for ever
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                continue
        if number >= 1e12:
            number = number / 1000 - now
        elif number >= 1e9:
            number -= now
        return max(0.0, number)
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass
class Stats:
    requests: int = 0
    throttled: int = 0
    waited: float = 0.0


_SQLITE_FACTORIES: dict[str, sessionmaker[Session]] = {}
_factories_lock = threading.Lock()


def budget_sessions(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions for the budget's row. On SQLite, a connection of its own that waits at most a
    second for the write lock: a caller may hold a write transaction of the same file (a
    request that is connecting Dodo), and the budget then counts in this process alone."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        return factory
    if bind.url.database in (None, "", ":memory:"):
        return factory  # one connection's database: no other can share it
    url = bind.url.render_as_string(hide_password=False)
    with _factories_lock:
        if url not in _SQLITE_FACTORIES:
            engine = make_engine(url, busy_timeout_ms=LOCK_WAIT_MS)
            _SQLITE_FACTORIES[url] = sessionmaker(engine, expire_on_commit=False)
        return _SQLITE_FACTORIES[url]


class RateLimiter:
    """Thread-safe; one instance per process and key is enough, but any number share the budget
    through the `rate_buckets` row. When that row cannot be written in time (SQLite locked by
    the caller's own transaction), the budget is kept in this process until it can again."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        key: str,
        budget: Budget,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.factory, self.key, self.budget = budget_sessions(factory), key, budget
        self.clock, self.sleep = clock, sleep
        self.stats = Stats()
        self._lock = threading.Lock()
        self._limit_seen: int | None = None
        self._local = RateBucket(key=key, sent=[], tat=0.0, blocked_until=0.0, throttled=0)
        self._local_until = 0.0  # monotonic time until which the budget is counted locally

    def _row(self, session: Session) -> RateBucket:
        # Writing first takes SQLite's write lock at the start of the transaction, so the read
        # below cannot go stale before the update (PostgreSQL locks the row instead).
        session.execute(
            insert_ignoring_conflicts(session, RateBucket).values(
                key=self.key, sent=[], tat=0.0, blocked_until=0.0, throttled=0
            )
        )
        return session.execute(
            select(RateBucket).where(RateBucket.key == self.key).with_for_update()
        ).scalar_one()

    def _take(self, row: RateBucket) -> float:
        now = self.clock()
        sent = sorted(t for t in row.sent if t > now - 60.0 - SLACK)
        wait = wait_needed(sent, row.tat, row.blocked_until, now, self.budget)
        if wait > 0:
            if len(sent) != len(row.sent):
                row.sent = sent
            return wait
        row.sent = [*sent, now]
        row.tat = max(row.tat, now) + self.budget.interval
        row.updated_at = utcnow()
        return 0.0

    def _shared(self) -> bool:
        return time.monotonic() >= self._local_until

    def _locked(self) -> None:
        """The row could not be written in time: count here for a while, then try again."""
        self._local_until = time.monotonic() + LOCAL_FOR
        log.warning("rate_limit.local", extra={"reason": "the budget row is locked"})

    def _try(self) -> float:
        with self._lock:
            if self._shared():
                try:
                    with self.factory.begin() as session:
                        row = self._row(session)
                        wait = self._take(row)
                        # What the row says, kept here too should it become unreachable.
                        self._local.sent, self._local.tat = list(row.sent), row.tat
                        self._local.blocked_until = row.blocked_until
                        return wait
                except OperationalError:
                    self._locked()
            return self._take(self._local)

    def acquire(self) -> float:
        """Wait until a request may go and count it; returns the seconds waited."""
        waited = 0.0
        while (wait := self._try()) > 0:
            nap = min(wait, MAX_NAP)
            self.sleep(nap)
            waited += nap
        with self._lock:
            self.stats.requests += 1
            self.stats.waited += waited
        return waited

    def observe(self, status: int, headers: Mapping[str, str], attempt: int = 0) -> float | None:
        """Learn from a response. For a 429, block every process and return how long to wait
        before retrying; otherwise None."""
        now = self.clock()
        remaining = _int(headers.get("x-ratelimit-remaining"))
        limit = _int(headers.get("x-ratelimit-limit"))
        block: float | None = None
        if status == 429:
            told = parse_wait(headers, now)
            block = told if told is not None else min(MAX_BACKOFF, 2.0 ** min(attempt, 10))
            block = max(block, 0.5)
        elif remaining is not None and remaining <= 0:
            block = parse_wait({"x-ratelimit-reset": headers.get("x-ratelimit-reset", "")}, now)
        if block is None and (limit is None or limit == self._limit_seen):
            return None
        if status == 429:
            self.stats.throttled += 1
            log.info("rate_limit.throttled", extra={"wait": block, "attempt": attempt})
        with self._lock:
            self._learn(self._local, now, block, status, limit)
            if self._shared():
                try:
                    with self.factory.begin() as session:
                        self._learn(self._row(session), now, block, status, limit)
                except OperationalError:
                    self._locked()
        return block if status == 429 else None

    def _learn(
        self, row: RateBucket, now: float, block: float | None, status: int, limit: int | None
    ) -> None:
        if block is not None:
            row.blocked_until = max(row.blocked_until, now + block)
        if status == 429:
            row.throttled += 1
        if limit is not None:
            row.limit_seen = self._limit_seen = limit
        row.updated_at = utcnow()


class LimitedTransport(httpx.BaseTransport):
    """Every request through the limiter; a 429 waits and goes again, so throttling never fails
    a request until it has waited `max_wait` seconds in all."""

    def __init__(
        self,
        limiter: RateLimiter,
        inner: httpx.BaseTransport | None = None,
        *,
        max_wait: float = 900.0,
    ) -> None:
        self.limiter, self.max_wait = limiter, max_wait
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt, waited = 0, 0.0
        while True:
            waited += self.limiter.acquire()
            response = self.inner.handle_request(request)
            delay = self.limiter.observe(response.status_code, response.headers, attempt)
            if delay is None or waited + delay > self.max_wait:
                return response
            response.read()
            response.close()
            attempt += 1
            self.limiter.sleep(delay)
            waited += delay

    def close(self) -> None:
        self.inner.close()


def bucket_state(session: Session, key: str, now: float | None = None) -> dict[str, Any] | None:
    """What the status pages show of a budget."""
    row = session.get(RateBucket, key)
    if row is None:
        return None
    now = time.time() if now is None else now
    return {
        "usedLastMinute": sum(1 for t in row.sent if t > now - 60.0),
        "blockedForSeconds": round(max(0.0, row.blocked_until - now), 1),
        "throttled": row.throttled,
        "limitSeen": row.limit_seen,
    }
