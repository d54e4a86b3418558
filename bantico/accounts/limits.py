"""Login throttling. Failures per email are counted in the database, so the limit holds across
app processes; failures per client address are counted only in this process's memory, because
IP addresses are never stored (PRODUCT.md, privacy)."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bantico.accounts.models import LoginFailure
from bantico.db import utcnow
from bantico.errors import BanticoError

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


def check_email(session: Session, email: str) -> None:
    """Raise TooManyAttempts once an email has EMAIL_FAILURES failures inside WINDOW."""
    now = utcnow()
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.failed_at)).where(
            LoginFailure.email_hash == email_key(email), LoginFailure.failed_at > now - WINDOW
        )
    ).one()
    if count >= EMAIL_FAILURES:
        wait = (oldest + WINDOW - now).total_seconds()
        raise TooManyAttempts(
            f"Too many failed attempts for this email. Try again in {_minutes(wait)}.",
            retry_after=max(1, math.ceil(wait)),
        )


def record_email_failure(session: Session, email: str) -> None:
    key = email_key(email)
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.email_hash == key, LoginFailure.failed_at <= utcnow() - WINDOW
        )
    )
    session.add(LoginFailure(email_hash=key))


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

    def check(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                wait = hits[0] + self.window - now
                raise TooManyAttempts(
                    f"Too many failed logins from your network. Try again in {_minutes(wait)}.",
                    retry_after=max(1, math.ceil(wait)),
                )

    def fail(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            if key not in self._hits and len(self._hits) >= self.max_keys:
                self._hits.clear()  # a flood of addresses: forget rather than grow
            self._recent(key, now)
            self._hits.setdefault(key, deque()).append(now)
