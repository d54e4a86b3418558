"""One database layer for SQLite and PostgreSQL: engine, sessions, and the dialect helpers."""

from __future__ import annotations

import asyncio
import functools
import logging
import operator
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    Executable,
    Integer,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import BindTyping, Connection, Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    ORMExecuteState,
    Session,
    SessionTransaction,
    sessionmaker,
)
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# 64-bit keys on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and the rowid.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_ignoring_conflicts(session: Session, table: Any) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def upsert(
    session: Session, table: Any, *, keys: list[str], values: dict[str, Any], update: dict[str, Any]
) -> Insert:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET update` on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return (
            postgresql.insert(table)
            .values(**values)
            .on_conflict_do_update(index_elements=keys, set_=update)
        )
    return (
        sqlite.insert(table)
        .values(**values)
        .on_conflict_do_update(index_elements=keys, set_=update)
    )


# --- The hot write path: group commit ------------------------------------------------------------

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

log = logging.getLogger("bantico.db")


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
        self._max_batch = max_batch
        self._idle_seconds = idle_seconds
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Job[Any]]] = {}
        self._pending: list[_Job[Any]] = []
        self._in_thread = 0  # units handed to the thread and not yet answered
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._caches: dict[str, TTLCache[Any, Any]] = {}

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

    def cache(self, name: str, *, ttl: float = 30.0, max_size: int = 10_000) -> TTLCache[Any, Any]:
        """A named read-through cache that lives as long as this database's sessions."""
        cache = self._caches.get(name)
        if cache is None:
            cache = self._caches.setdefault(name, TTLCache(ttl=ttl, max_size=max_size))
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
        if not batch or factory is None or self._in_thread:
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


# Rows the caller does not read back (a click, a page view, a visitor's last-seen time) are
# queued on the session and sent together, one executemany per statement, just before the
# session runs any other statement or commits. Whoever reads in the same transaction still
# sees them, and they are committed as if run at once; only consecutive queued rows of
# different statements may reach the database in another order, so queue only rows that do
# not depend on each other (no foreign keys between them, no triggers).
_QUEUED = "bantico.queued_writes"


@dataclass
class _Queued:
    rows: dict[Executable, list[dict[str, Any]]]
    # The rows queued with a `key`, by (statement, key): see `execute_soon`'s `update`.
    keyed: dict[tuple[Executable, Hashable], dict[str, Any]]


def execute_soon(
    session: Session,
    statement: Executable,
    params: dict[str, Any],
    *,
    key: Hashable | None = None,
    update: tuple[str, ...] = (),
) -> None:
    """Run `statement` with `params` before the session's next statement or its commit.

    For an upsert (`INSERT … ON CONFLICT (key) DO UPDATE SET update = excluded.update`), give
    the row's conflict `key` and the `update` columns: a second row for the same key, queued
    before the first was sent, is folded into it (its `update` values replace the first's)
    instead of being sent as well. Nothing can read the row between the two (any statement
    sends the queue first), and the result is the same as running both: the row is inserted
    with the first's values and the second's update, or updated with the second's update.
    A visitor's page view and its `track()` events often arrive in the same batch; each would
    otherwise upsert the visitor and the session again.
    """
    queued: _Queued | None = session.info.get(_QUEUED)
    if queued is None:
        queued = session.info[_QUEUED] = _Queued({}, {})
    if key is not None:
        earlier = queued.keyed.get((statement, key))
        if earlier is not None:
            for column in update:
                earlier[column] = params[column]
            return
        queued.keyed[statement, key] = params
    rows = queued.rows.get(statement)
    if rows is None:
        queued.rows[statement] = [params]
    else:
        rows.append(params)


def flush_queued(session: Session) -> None:
    """Send the rows `execute_soon` queued on this session (also done automatically)."""
    queued: _Queued | None = session.info.pop(_QUEUED, None)
    if queued is not None:
        for statement, rows in queued.rows.items():
            _execute_many(session, statement, rows)


def _execute_many(session: Session, statement: Executable, rows: list[dict[str, Any]]) -> None:
    """`session.execute(statement, rows)`: the same SQL with the same values, handed to the
    driver's executemany without SQLAlchemy's per-row work.

    For every row of an executemany SQLAlchemy builds a parameter dictionary from the compiled
    statement, evaluates the Python-side column defaults and runs each value through its type's
    bind processor, all in generic code: on the busiest endpoints that cost more than the
    database's own insert. The statement is compiled once per dialect and shape instead (as
    SQLAlchemy's cache would), and each row then costs one `itemgetter`, its defaults (called
    per row, as SQLAlchemy calls them) and its typed columns' own bind processors, the very
    ones SQLAlchemy would run. Anything the plan does not cover (see `_plan`) takes the
    ordinary path. Errors are raised as SQLAlchemy's (`exec_driver_sql` wraps them).
    """
    connection = session.connection()
    plan = _plan(statement, connection.dialect, tuple(rows[0]))
    if plan is not None:
        try:
            params = plan.parameters(rows)
        except KeyError:  # rows of different shapes: let SQLAlchemy say what is missing
            params = None
        if params is not None:
            if session.autoflush:  # as `session.execute` does: pending objects go first
                session.flush()
            connection.exec_driver_sql(plan.sql, params)
            return
    session.execute(statement, rows)


@dataclass(frozen=True)
class _Plan:
    """How to send rows of one shape for one statement on one dialect (see `_execute_many`)."""

    sql: str
    names: tuple[str, ...]  # the statement's parameters, in its order
    get: Callable[[dict[str, Any]], Any]  # a row's values, for the names not defaulted
    defaults: tuple[tuple[int, Callable[[], Any]], ...]  # Python-side defaults, by position
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # bind processors, by position
    positional: bool

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        names, get, defaults, processors = self.names, self.get, self.defaults, self.processors
        result: list[Any] = []
        for row in rows:
            values = list(get(row))
            for position, default in defaults:  # in increasing order of position
                values.insert(position, default())
            for position, process in processors:
                values[position] = process(values[position])
            result.append(
                tuple(values) if self.positional else dict(zip(names, values, strict=True))
            )
        return result


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


@functools.lru_cache(maxsize=64)
def _plan(statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    """The plan for `statement` run with rows having `keys`, or None to leave it to
    SQLAlchemy: only plain parameters and scalar or zero-argument Python defaults."""
    if not isinstance(statement, Insert) or dialect.bind_typing is BindTyping.SETINPUTSIZES:
        return None
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    if (
        compiled.effective_returning
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):
        return None
    names = tuple(compiled.positiontup if compiled.positional else compiled.bind_names.values())
    if len(names) != len(set(names)) or len(names) != len(compiled.binds):
        return None
    defaulted: dict[str, Callable[[], Any]] = {}
    for column in compiled.insert_prefetch:
        default: Any = column.default
        if default is not None and default.is_scalar:
            defaulted[column.key] = _constant(default.arg)
        elif default is not None and default.is_callable and default.arg is not default._fn:
            # A function of no arguments, such as `utcnow` (SQLAlchemy wraps it as fn(context)
            # in `arg`; one that takes the context is left to SQLAlchemy).
            defaulted[column.key] = default._fn
        else:
            return None
    given = [name for name in names if name not in defaulted]
    if set(given) != set(keys) or not given:
        return None
    processors = []
    for position, name in enumerate(names):
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((position, process))
    getter = operator.itemgetter(*given)
    return _Plan(
        sql=compiled.string,
        names=names,
        get=getter if len(given) > 1 else lambda row: (getter(row),),
        defaults=tuple(
            (position, defaulted[name]) for position, name in enumerate(names) if name in defaulted
        ),
        processors=tuple(processors),
        positional=compiled.positional,
    )


@event.listens_for(Session, "do_orm_execute")
def _flush_before_statement(state: ORMExecuteState) -> None:
    if _QUEUED in state.session.info:
        flush_queued(state.session)


@event.listens_for(Session, "before_commit")
def _flush_before_commit(session: Session) -> None:
    if _QUEUED in session.info:
        flush_queued(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_queued(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (already sent) or rolled back (never sent)
        session.info.pop(_QUEUED, None)


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


class TTLCache(Generic[K, V]):
    """A small thread-safe read-through cache whose entries expire `ttl` seconds after they
    were stored. It holds no authoritative state: only copies of rows that rarely change."""

    def __init__(self, *, ttl: float, max_size: int) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        self._entries.clear()
