"""Group commit's failure paths (bantico/ingest/group_commit.py), on the suite's database: a failing
unit never fails or loses its neighbours, a SQLite file locked by another connection hands the
batch to the writer thread without stalling the event loop, and a database that cannot be
reached answers 503 with nothing acknowledged."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bantico.app import create_app
from bantico.config import Settings
from bantico.db import make_engine, utcnow
from bantico.ingest.group_commit import GroupCommit
from bantico.kit.leases import Lease

T = TypeVar("T")


class Refused(Exception):
    pass


def write(name: str, fail: bool = False):  # type: ignore[no-untyped-def]
    """A unit that stores a lease row named `name`, then fails if asked (after writing)."""

    def unit(session: Session) -> str:
        session.add(Lease(name=name, holder="test", expires_at=utcnow() + timedelta(hours=1)))
        session.flush()
        if fail:
            raise Refused(name)
        return name

    return unit


def stored(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.execute(select(Lease.name)).scalars())


def in_own_loop(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run(scenario())` on a thread of its own: the browser tests' Playwright keeps an
    event loop running on the main thread, where `asyncio.run` refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result()


async def run_together(committer: GroupCommit, units: list) -> list:  # type: ignore[type-arg]
    return await asyncio.gather(*(committer.run(u) for u in units), return_exceptions=True)


def test_a_failing_unit_fails_alone_and_its_neighbours_are_committed(
    engine: Engine, session: Session
) -> None:
    factory = sessionmaker(engine, expire_on_commit=False)  # held: the committer's is weak
    committer = GroupCommit(factory)
    units = [write(f"ok{i}") for i in range(10)]
    units.insert(4, write("bad", fail=True))
    results = in_own_loop(lambda: run_together(committer, units))
    assert isinstance(results[4], Refused)
    assert [r for i, r in enumerate(results) if i != 4] == [f"ok{i}" for i in range(10)]
    assert stored(engine) == {f"ok{i}" for i in range(10)}  # "bad" was rolled back alone


def test_a_failing_commit_is_retried_unit_by_unit(engine: Engine) -> None:
    """Two units that conflict (the same primary key): the batch's commit fails, each is run
    again alone, the first wins and the second gets the database's error."""
    factory = sessionmaker(engine, expire_on_commit=False)  # held: the committer's is weak
    committer = GroupCommit(factory)
    results = in_own_loop(
        lambda: run_together(committer, [write("same"), write("other"), write("same")])
    )
    assert results[:2] == ["same", "other"]
    assert isinstance(results[2], Exception)
    assert stored(engine) == {"same", "other"}


def test_a_locked_sqlite_file_hands_the_batch_to_the_writer_without_stalling_the_loop(
    engine: Engine,
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL batches always run on the writer thread; there is no file lock")
    factory = sessionmaker(engine, expire_on_commit=False)  # held: the committer's is weak
    committer = GroupCommit(factory)
    locker = engine.raw_connection()
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the file's write lock
    release = threading.Timer(0.4, locker.rollback)
    release.start()

    async def scenario() -> tuple[list, int]:  # type: ignore[type-arg]
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        results = await run_together(committer, [write(f"w{i}") for i in range(5)])
        ticker.cancel()
        return results, ticks

    started = time.monotonic()
    try:
        results, ticks = in_own_loop(scenario)
    finally:
        release.join()
        locker.close()
    assert results == [f"w{i}" for i in range(5)]
    assert time.monotonic() - started >= 0.35  # they waited for the lock...
    assert ticks >= 20  # ...on the writer thread, while the loop went on (~40 ticks)
    assert stored(engine) == {f"w{i}" for i in range(5)}


def test_an_unreachable_database_answers_503_and_acknowledges_nothing(
    settings: Settings,
) -> None:
    down = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")
    app = create_app(settings.model_copy(update={"report_rollup_interval_seconds": 0}), down)
    body = '{"token": "tok", "name": "page_view", "visitorId": "v_visitor0001", "url": "https://a.example/"}'
    with TestClient(app) as client:
        collected = client.post(
            "/api/collect", content=body, headers={"content-type": "text/plain"}
        )
        clicked = client.get("/l/anykey", follow_redirects=False)
    for response in (collected, clicked):
        assert response.status_code == 503, response.text
        assert "database is unavailable" in response.text
    down.dispose()


def test_the_unreachable_database_test_really_cannot_connect() -> None:
    down = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")
    with pytest.raises(Exception, match=r"connect|refused"), down.connect() as connection:
        connection.execute(text("SELECT 1"))
    down.dispose()


def test_the_loop_never_waits_for_a_pooled_connection(database_url: str, engine: Engine) -> None:
    """With every pooled connection held (by API requests in the thread pool, whose sessions
    only the loop closes), a batch goes to the writer thread instead of waiting on the loop:
    the loop stays responsive, and the batch commits once a connection is free."""
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite batches run on the loop")
    from sqlalchemy import create_engine

    small = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=3)
    factory = sessionmaker(small, expire_on_commit=False)
    committer = GroupCommit(factory)
    held = small.connect()

    async def scenario() -> tuple[float, str]:
        task = asyncio.ensure_future(committer.run(write("waited")))
        started = time.monotonic()
        await asyncio.sleep(0.2)
        lag = time.monotonic() - started  # 3 s (the pool's timeout) if the loop waited
        held.close()  # a request finishes: the writer thread gets the connection
        return lag, await task

    try:
        lag, result = in_own_loop(scenario)
    finally:
        held.close()
        small.dispose()
    assert lag < 1.0 and result == "waited"
    assert "waited" in stored(engine)
