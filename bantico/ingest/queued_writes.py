"""Queued writes: rows the caller does not read back (a click, a page view, a visitor's
last-seen time) are queued on the session with `execute_soon` and sent together, one
executemany per statement, just before the session runs any other statement or commits.

Whoever reads in the same transaction still sees them, and they are committed as if run at
once; only consecutive queued rows of different statements may reach the database in another
order, so queue only rows that do not depend on each other (no foreign keys between them, no
triggers).

The statements are `BulkInsert`s: an INSERT (or an upsert) written out column by column. For
every row of an executemany SQLAlchemy builds a parameter dictionary from the compiled
statement, evaluates the column defaults and runs each value through its type in generic code;
on the busiest endpoints that costs more than the database's own insert. A `BulkInsert` is
turned into SQL once per dialect from public interfaces only (the table's column names quoted
by the dialect, its paramstyle, each column type's own bind processor), and each row then
costs one lookup per column. `BulkInsert.core` is the same statement in SQLAlchemy Core, which
the tests run beside it and compare row for row on both databases. Any other statement
(`INSERT … SELECT … WHERE NOT EXISTS`, say) may be queued too: its rows are sent in order with
SQLAlchemy's own executemany.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Executable, Table, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

_QUEUED = "bantico.ingest.queued_writes"
# The placeholder of the parameter at `position` (from 1) named `name`, by DB-API paramstyle.
_PLACEHOLDERS: dict[str, Callable[[int, str], str]] = {
    "qmark": lambda position, name: "?",
    "format": lambda position, name: "%s",
    "numeric": lambda position, name: f":{position}",
    "numeric_dollar": lambda position, name: f"${position}",
    "named": lambda position, name: f":{name}",
    "pyformat": lambda position, name: f"%({name})s",
}
_POSITIONAL = {"qmark", "format", "numeric", "numeric_dollar"}
# Dialects whose `INSERT … ON CONFLICT (…) DO UPDATE SET c = excluded.c` is written alike.
_UPSERT_DIALECTS: dict[str, Any] = {"sqlite": sqlite, "postgresql": postgresql}


@dataclass(frozen=True, eq=False)
class BulkInsert:
    """`INSERT INTO table (columns…, defaults…) VALUES (…)`, and with `conflict`, an upsert:
    `ON CONFLICT (conflict…) DO UPDATE SET u = excluded.u` for each `update` column.

    Every row gives each of `columns`; each of `defaults` is called once per row (as a
    column's Python default would be). Every column of the table with a Python-side default
    must be one or the other, so that nothing SQLAlchemy would fill in is left out."""

    table: Table
    columns: tuple[str, ...]
    defaults: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    conflict: tuple[str, ...] = ()
    update: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        written = (*self.columns, *self.defaults)
        unknown = [name for name in written if name not in self.table.c]
        forgotten = [
            column.name
            for column in self.table.columns
            if column.default is not None and column.name not in written
        ]
        if unknown or forgotten or len(set(written)) != len(written):
            raise ValueError(
                f"{self.table.name}: unknown columns {unknown}, columns with a Python default "
                f"left out {forgotten}, or a column named twice in {written}"
            )
        if not set(self.conflict) <= set(self.columns) or not set(self.update) <= set(written):
            raise ValueError(f"{self.table.name}: conflict and update must be written columns")
        if bool(self.conflict) != bool(self.update):
            raise ValueError(f"{self.table.name}: an upsert needs both conflict and update")

    @functools.cached_property
    def given(self) -> frozenset[str]:
        """What each row gives."""
        return frozenset(self.columns)

    def core(self, dialect: Dialect) -> Executable:
        """The same statement in SQLAlchemy Core (run with rows holding `columns`)."""
        if not self.conflict:
            return insert(self.table)
        upsert: Any = _upsert_module(dialect).insert(self.table)
        statement: Executable = upsert.on_conflict_do_update(
            index_elements=list(self.conflict),
            set_={name: upsert.excluded[name] for name in self.update},
        )
        return statement


def _upsert_module(dialect: Dialect) -> Any:
    module = _UPSERT_DIALECTS.get(dialect.name)
    if module is None:
        raise NotImplementedError(
            f"upserts are written for SQLite and PostgreSQL, not {dialect.name}"
        )
    return module


@dataclass
class _Queued:
    rows: dict[BulkInsert | Executable, list[dict[str, Any]]]
    # The rows queued with a `key`, by (statement, key): see `execute_soon`.
    keyed: dict[tuple[BulkInsert, Hashable], dict[str, Any]]


def execute_soon(
    session: Session,
    statement: BulkInsert | Executable,
    params: dict[str, Any],
    *,
    key: Hashable | None = None,
) -> None:
    """Run `statement` with `params` (one value for each of its `columns`) before the
    session's next statement or its commit.

    For an upsert, give the row's conflict `key`: a second row for the same key, queued before
    the first was sent, is folded into it (its `update` values replace the first's) instead of
    being sent as well. Nothing can read the row between the two (any statement sends the
    queue first), and the result is the same as running both: the row is inserted with the
    first's values and the second's update, or updated with the second's update. A visitor's
    page view and its `track()` events often arrive in the same batch; each would otherwise
    upsert the visitor and the session again.
    """
    if not isinstance(statement, BulkInsert):
        _queue(session).rows.setdefault(statement, []).append(params)
        return
    if params.keys() != statement.given:
        raise ValueError(
            f"a row for {statement.table.name} must give exactly {sorted(statement.given)}: "
            f"missing {sorted(statement.given - params.keys())}, "
            f"unknown {sorted(params.keys() - statement.given)}"
        )
    queued = _queue(session)
    if key is not None:
        earlier = queued.keyed.get((statement, key))
        if earlier is not None:
            for column in statement.update:
                earlier[column] = params[column]
            return
        queued.keyed[statement, key] = params
    rows = queued.rows.get(statement)
    if rows is None:
        queued.rows[statement] = [params]
    else:
        rows.append(params)


def _queue(session: Session) -> _Queued:
    queued: _Queued | None = session.info.get(_QUEUED)
    if queued is None:
        queued = session.info[_QUEUED] = _Queued({}, {})
    return queued


def flush_queued(session: Session) -> None:
    """Send the rows `execute_soon` queued on this session (also done automatically)."""
    queued: _Queued | None = session.info.pop(_QUEUED, None)
    if queued is None:
        return
    if session.autoflush:  # as `session.execute` does: pending objects go first
        session.flush()
    connection = session.connection()
    for statement, rows in queued.rows.items():
        if not isinstance(statement, BulkInsert):
            connection.execute(statement, rows)  # Core, not the ORM: the queue is not re-entered
            continue
        plan = _plan(statement, connection.dialect)
        # Errors are raised as SQLAlchemy's (`exec_driver_sql` wraps them).
        connection.exec_driver_sql(plan.sql, plan.parameters(rows))


@dataclass(frozen=True)
class _Plan:
    """How to send rows of one `BulkInsert` on one dialect."""

    sql: str
    columns: tuple[str, ...]
    defaults: tuple[Callable[[], Any], ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # bind processors, by position
    names: tuple[str, ...] | None  # the parameter names, for a named paramstyle

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        columns, defaults, processors, names = (
            self.columns,
            self.defaults,
            self.processors,
            self.names,
        )
        result: list[Any] = []
        for row in rows:
            values = [row[name] for name in columns]
            values.extend(default() for default in defaults)
            for position, process in processors:
                values[position] = process(values[position])
            result.append(tuple(values) if names is None else dict(zip(names, values, strict=True)))
        return result


@functools.lru_cache(maxsize=64)
def _plan(statement: BulkInsert, dialect: Dialect) -> _Plan:
    """`statement` as SQL for `dialect`, with each column's bind processor."""
    names = (*statement.columns, *statement.defaults)
    quote = dialect.identifier_preparer.quote
    placeholder = _PLACEHOLDERS[dialect.paramstyle]
    sql = (
        f"INSERT INTO {quote(statement.table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join(placeholder(i, n) for i, n in enumerate(names, 1))})"
    )
    if statement.conflict:
        _upsert_module(dialect)
        sql += (
            f" ON CONFLICT ({', '.join(quote(n) for n in statement.conflict)}) DO UPDATE SET "
            + ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in statement.update)
        )
    processors = []
    for position, name in enumerate(names):
        process = statement.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((position, process))
    return _Plan(
        sql=sql,
        columns=statement.columns,
        defaults=tuple(statement.defaults.values()),
        processors=tuple(processors),
        names=None if dialect.paramstyle in _POSITIONAL else names,
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
