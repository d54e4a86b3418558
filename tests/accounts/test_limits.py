from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from bantico.accounts import service
from bantico.accounts.limits import EMAIL_FAILURES, AddressLimiter, TooManyAttempts
from bantico.db import make_sessionmaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_address_limiter_is_a_sliding_window() -> None:
    clock = Clock()
    limiter = AddressLimiter(limit=3, window=60, clock=clock)
    for _ in range(3):
        limiter.attempt("10.0.0.1")
        clock.now += 10
    with pytest.raises(TooManyAttempts, match="from your network") as caught:
        limiter.attempt("10.0.0.1")
    assert caught.value.retry_after == 30
    limiter.attempt("10.0.0.2")  # other addresses are unaffected
    clock.now += 30
    limiter.attempt("10.0.0.1")  # the first attempt left the window


def test_a_successful_login_is_forgiven() -> None:
    limiter = AddressLimiter(limit=2, window=60, clock=Clock())
    for _ in range(5):
        limiter.forgive("10.0.0.1", limiter.attempt("10.0.0.1"))
    limiter.attempt("10.0.0.1")


def test_address_limiter_memory_is_bounded() -> None:
    limiter = AddressLimiter(limit=1, window=60, clock=Clock(), max_keys=10)
    for n in range(25):
        limiter.attempt(f"10.0.0.{n}")
    assert len(limiter._hits) <= 10


def concurrently(count: int, work: Callable[[int], Any]) -> None:
    start = threading.Barrier(count)

    def run(number: int) -> None:
        start.wait()
        work(number)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_wrong_passwords_for_one_email_are_checked_at_most_the_limit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted before the password is checked, in turn: 100 at once check at most 5."""
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        service.create_user(session, "owner@example.com", "a long enough password 1")
    checked, lock = [0], threading.Lock()
    real = service.verify_password

    def counting(hashed: str | None, password: str) -> bool:
        with lock:
            checked[0] += 1
        return real(hashed, password)

    monkeypatch.setattr(service, "verify_password", counting)
    outcomes: list[str] = []

    def attempt(_number: int) -> None:
        with factory() as session:
            try:
                service.authenticate(session, "owner@example.com", "wrong password")
            except (TooManyAttempts, service.WrongCredentials) as error:
                outcomes.append(type(error).__name__)
            session.commit()

    concurrently(100, attempt)
    assert checked[0] <= EMAIL_FAILURES
    assert outcomes.count("WrongCredentials") == checked[0]
    assert outcomes.count("TooManyAttempts") == 100 - checked[0]


def test_concurrent_attempts_from_one_address_are_checked_at_most_the_limit() -> None:
    limiter = AddressLimiter(limit=20, window=900)
    let_in: list[int] = []

    def attempt(number: int) -> None:
        try:
            limiter.attempt("203.0.113.9")
        except TooManyAttempts:
            return
        let_in.append(number)

    concurrently(100, attempt)
    assert len(let_in) == 20
