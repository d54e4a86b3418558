"""Queued writes: rows the caller does not read back (a click, a page view, a visitor's
last-seen time) are queued on the session with `execute_soon` and sent together, one
executemany per statement, just before the session runs any other statement or commits.

Whoever reads in the same transaction still sees them, and they are committed as if run at
once; only consecutive queued rows of different statements may reach the database in another
order, so queue only rows that do not depend on each other (no foreign keys between them, no
triggers)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, event
from sqlalchemy.engine import BindTyping, Dialect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.dml import Insert

_QUEUED = "bantico.ingest.queued_writes"


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
