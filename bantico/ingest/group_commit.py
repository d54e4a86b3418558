"""Group commit: the short write units of many concurrent requests (a click, a page view) run
together, several per transaction, each answered once its transaction has committed."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bantico.db import SQLITE_BUSY_TIMEOUT_MS
from bantico.ingest import cache_versions
from bantico.ingest.caches import TTLCache

T = TypeVar("T")

log = logging.getLogger("bantico.ingest.group_commit")


@dataclass(frozen=True)
class _Job(Generic[T]):
    work: Callable[[Session], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the request was cancelled; its work is committed all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class GroupCommit:
    """Runs the short write units of many concurrent requests together, several per
    transaction, and answers each request only after its transaction has committed.

    This is how the busiest endpoints (`GET /l/{key}`, `POST /api/collect`) stay durable and
    fast: every click or event is committed before its response is sent, exactly as with a
    per-request session, but one commit serves all the requests that arrived meanwhile.
    Nothing is buffered: a unit waits only for the batch it joins, and batches are formed from
    what is already waiting, or arrives within one more pass of the event loop (no timer, so
    an idle server adds no noticeable latency).

    On SQLite a batch first runs on the event loop itself, without waiting for the database's
    write lock: a batch is a few hundred microseconds of work, and handing it to a thread
    costs more (each SQLite call releases the GIL, which the busy loop then holds for up to
    the interpreter's switch interval). If the lock is held by another connection (a sync job,
    the CLI, another worker) or anything else fails, the batch is handed, untouched, to a
    writer thread that waits for the lock as any session does, so the loop never stalls on
    the database; later units follow it there until the thread is idle again. PostgreSQL
    batches always run on the writer thread.

    A unit is a plain function of a `Session`. Units run in arrival order; each sees the
    writes of the units before it. If a unit or the commit fails, the batch is rolled back and
    each unit is run again alone, so one bad request never fails or loses another's work; the
    unit that failed gets its exception back in its request. Units must therefore be safe to
    run again after a rollback (a pure function of their inputs and the database).
    """

    def __init__(
        self, factory: sessionmaker[Session], *, max_batch: int = 256, idle_seconds: float = 30.0
    ) -> None:
        self._factory = weakref.ref(factory)
        bind = factory.kw.get("bind")
        self._inline = isinstance(bind, Engine) and bind.dialect.name == "sqlite"
        self._pool = bind.pool if isinstance(bind, Engine) else None
        self._max_batch = max_batch
        self._idle_seconds = idle_seconds
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Job[Any]]] = {}
        self._pending: list[_Job[Any]] = []
        self._in_thread = 0  # units handed to the thread and not yet answered
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._caches: dict[str, TTLCache[Any, Any]] = {}
        # Other processes' changes to cached rows, read in a batch's transaction when due.
        self.versions = cache_versions.SharedVersions()

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in the next transaction; return its result once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(work, loop, future)
        if self._inline and not self._in_thread:
            waiting = self._waiting.get(loop)
            if waiting is None:
                waiting = self._waiting[loop] = []
                loop.call_soon(self._flush_soon, loop)
            waiting.append(job)
        else:
            self._submit([job])
        return await future

    def cache(
        self, name: str, *, ttl: float = 30.0, max_size: int = 10_000, version: str | None = None
    ) -> TTLCache[Any, Any]:
        """A named read-through cache that lives as long as this database's sessions; with a
        `version`, changes from any process make its entries stale (`cache_versions`)."""
        cache = self._caches.get(name)
        if cache is None:
            made = TTLCache[Any, Any](ttl=ttl, max_size=max_size, version=version)
            cache = self._caches.setdefault(name, made)
        return cache

    # On the event loop (SQLite only).

    def _flush_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        """Flush after one more pass of the loop, not a timer: the requests whose bytes that
        pass reads (the clients answered by the last commit send their next ones meanwhile)
        start, and queue their units, before the batch is taken. Under load this makes batches
        larger (26 to 42 units on average with 50 clients), so the commit's fixed cost (a
        session, and SQLite writing the touched pages to the WAL: about 200 µs) is shared by
        more requests; an idle server commits a request one loop pass (microseconds) later."""
        loop.call_soon(self._flush, loop)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._waiting.pop(loop, [])
        factory = self._factory()
        if not batch or factory is None or self._in_thread or not self._pool_has_room():
            self._submit(batch)
            return
        for start in range(0, len(batch), self._max_batch):
            part = batch[start : start + self._max_batch]
            results, error = self._attempt(factory, part, wait_for_lock=False)
            if error is not None:
                self._submit(batch[start:])
                return
            for job, result in zip(part, results, strict=True):
                _settle(job.future, result, None)

    def _pool_has_room(self) -> bool:
        """Whether a connection can be had from the pool without waiting. Never wait for one
        on the event loop: the connections may be held by requests in the thread pool whose
        sessions are only closed by the loop (FastAPI's generator dependencies, as every
        /api/v1 call's session), so the loop would wait for itself until the pool's timeout
        (30 s: every request of the process stalled, then failed). The writer thread waits
        instead. (A connection taken by another thread between this check and the batch's
        checkout still makes the loop wait; the check makes that window microseconds.)"""
        pool = self._pool
        if not isinstance(pool, QueuePool) or pool.checkedin() > 0:
            return True
        most: int = getattr(pool, "_max_overflow", -1)
        return most < 0 or pool.overflow() < most

    # On the writer thread.

    def _submit(self, batch: list[_Job[Any]]) -> None:
        if not batch:
            return
        with self._wake:
            self._pending.extend(batch)
            self._in_thread += len(batch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="bantico-group-commit", daemon=True
                )
                self._thread.start()
            else:
                self._wake.notify()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    if not self._wake.wait(self._idle_seconds) and not self._pending:
                        self._thread = None  # idle: the next hand-over starts a new thread
                        return
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
            try:
                self._execute(batch)
            except BaseException as error:  # never leave a request waiting forever
                log.exception("group commit failed")
                for job in batch:
                    self._deliver(job, None, error)
            finally:
                with self._wake:
                    self._in_thread -= len(batch)

    def _execute(self, batch: list[_Job[Any]]) -> None:
        factory = self._factory()
        if factory is None:
            gone = RuntimeError("the database's sessionmaker was discarded")
            for job in batch:
                self._deliver(job, None, gone)
            return
        results, error = self._attempt(factory, batch, wait_for_lock=True)
        if error is None:
            for job, result in zip(batch, results, strict=True):
                self._deliver(job, result, None)
        elif len(batch) == 1:
            self._deliver(batch[0], None, error)
        else:
            for job in batch:
                results, alone = self._attempt(factory, [job], wait_for_lock=True)
                self._deliver(job, results[0], alone)

    @staticmethod
    def _deliver(job: _Job[Any], result: Any, error: BaseException | None) -> None:
        with suppress(RuntimeError):  # the request's event loop has closed
            job.loop.call_soon_threadsafe(_settle, job.future, result, error)

    # Either.

    @staticmethod
    def _attempt(
        factory: sessionmaker[Session], batch: list[_Job[Any]], *, wait_for_lock: bool
    ) -> tuple[list[Any], Exception | None]:
        session = factory()
        sqlite_connection: Any = None
        try:
            if not wait_for_lock:
                # Fail at once with "database is locked" instead of waiting on the loop.
                sqlite_connection = session.connection().connection.driver_connection
                sqlite_connection.execute("PRAGMA busy_timeout = 0")
            results = [job.work(session) for job in batch]
            session.commit()
            return results, None
        except Exception as error:
            return [None] * len(batch), error
        finally:
            if sqlite_connection is not None:  # back to waiting, for the pool's next user
                with suppress(Exception):
                    sqlite_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            session.close()  # rolls back whatever was not committed


_committers: weakref.WeakKeyDictionary[sessionmaker[Session], GroupCommit] = (
    weakref.WeakKeyDictionary()
)
_committers_lock = threading.Lock()


def group_commit(factory: sessionmaker[Session]) -> GroupCommit:
    """The one `GroupCommit` of a sessionmaker (one per app)."""
    committer = _committers.get(factory)
    if committer is None:
        with _committers_lock:
            committer = _committers.get(factory)
            if committer is None:
                committer = _committers[factory] = GroupCommit(factory)
    return committer
