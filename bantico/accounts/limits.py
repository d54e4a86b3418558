"""Login throttling. Failures per email are counted in the database, so the limit holds across
app processes; failures per client address are counted only in this process's memory, because
IP addresses are never stored (docs/product.md §2, privacy)."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bantico.accounts.models import LoginFailure
from bantico.db import utcnow
from bantico.kit.errors import BanticoError

EMAIL_FAILURES = 5
IP_FAILURES = 20
WINDOW = timedelta(minutes=15)


class TooManyAttempts(BanticoError):
    status_code = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def reserve_attempt(factory: sessionmaker[Session], email: str) -> None:
    """Count an attempt for `email` before its password is checked, in a short transaction of
    its own that concurrent attempts take in turn, so at most EMAIL_FAILURES are ever checked
    in a WINDOW however many arrive at once. The attempt stays counted as a failure unless the
    login succeeds (`clear_email_failures`); past the limit it raises TooManyAttempts and
    counts nothing. Call it before the request's transaction writes (on SQLite it would wait
    for that transaction's lock)."""
    key, now = email_key(email), utcnow()
    with factory.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One email's attempts in turn; SQLite's single writer does this by itself.
            session.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
        attempt = LoginFailure(email_hash=key, failed_at=now)
        session.add(attempt)
        session.flush()  # on SQLite the write lock is taken here, before the count
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.email_hash == key, LoginFailure.failed_at <= now - WINDOW
            )
        )
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.failed_at)).where(
                LoginFailure.email_hash == key, LoginFailure.failed_at > now - WINDOW
            )
        ).one()
        if count > EMAIL_FAILURES:
            session.delete(attempt)
            session.flush()
            wait = (oldest + WINDOW - now).total_seconds()
            refused = TooManyAttempts(
                f"Too many failed attempts for this email. Try again in {_minutes(wait)}.",
                retry_after=max(1, math.ceil(wait)),
            )
        else:
            return
    raise refused


def _lock_id(key: str) -> int:
    return int(key[:15], 16)  # 60 bits of the email's hash: a bigint advisory lock key


def clear_email_failures(session: Session, email: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.email_hash == email_key(email)))


class AddressLimiter:
    """At most `limit` failures per key (a client address) in a sliding window, in memory."""

    def __init__(
        self,
        limit: int = IP_FAILURES,
        window: float = WINDOW.total_seconds(),
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def attempt(self, key: str) -> float:
        """Count an attempt before the password is checked (so concurrent ones cannot all
        slip under the limit); returns its stamp, to `forgive` when the login succeeds."""
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                wait = hits[0] + self.window - now
                raise TooManyAttempts(
                    f"Too many failed logins from your network. Try again in {_minutes(wait)}.",
                    retry_after=max(1, math.ceil(wait)),
                )
            if key not in self._hits and len(self._hits) >= self.max_keys:
                self._hits.clear()  # a flood of addresses: forget rather than grow
            self._hits.setdefault(key, deque()).append(now)
            return now

    def forgive(self, key: str, stamp: float) -> None:
        with self._lock:
            hits = self._hits.get(key)
            if hits is not None and stamp in hits:
                hits.remove(stamp)
