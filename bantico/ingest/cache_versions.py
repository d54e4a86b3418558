"""Copies of rows that a process keeps in memory (links by key for redirects, projects by token
for the loader) made stale everywhere at once when the rows change.

Each kind of copy has a version, and each model whose rows are copied is `watch`ed under it
(next to the model, so any process that can change the rows counts their changes: the server,
the CLI, jobs). A flush that updates or deletes such a row makes every copy of that kind stale
at once in this process (`forget`), and counts the change in the database, in the changing
transaction, in the `cache_versions` table (`bump`). Every other process reads that table at
most every `CHECK_SECONDS` (`SharedVersions.poll`, run by the hot paths inside a transaction
they open anyway) and forgets its copies when a count moved. So with several workers, or
several servers on one database, an edit is followed everywhere within `CHECK_SECONDS` plus
one request, while copies that nothing changed live their full time-to-live.

A cache records the version it read a row at (`current(name)` before the read) and keeps the
copy only while that is still the version: a change committed during the read outdates it.
"""

from __future__ import annotations

import itertools
import threading
import time

from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column

from bantico.db import Base, upsert

CHECK_SECONDS = 0.5
LINKS = "links"
PROJECTS = "projects"

_counter = itertools.count(1)
_versions: dict[str, int] = {}
_watched: dict[type, str] = {}
_CHANGED = "bantico.ingest.cache_versions.changed"


class CacheVersion(Base):
    """How many times rows of one kind that processes keep copies of have changed."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def current(name: str) -> int:
    """This process's version of `name`: a copy read at another version is stale."""
    return _versions.get(name, 0)


def forget(name: str) -> None:
    """Make this process's copies of `name` stale."""
    _versions[name] = next(_counter)  # atomic, unlike += from several threads


def bump(session: Session, name: str) -> None:
    """Count a change of `name` in the database, in `session`'s transaction, so that other
    processes forget their copies once it commits (and this one, now)."""
    forget(name)
    session.connection().execute(
        upsert(
            session,
            CacheVersion,
            keys=["name"],
            values={"name": name, "version": 1},
            update={"version": CacheVersion.version + 1},
        )
    )


def watch(model: type, name: str) -> None:
    """Count every update or delete of `model`'s rows as a change of `name`."""
    _watched[model] = name


@event.listens_for(Session, "after_flush")
def _rows_changed(session: Session, _flush: UOWTransaction) -> None:
    rows = (*session.dirty, *session.deleted)
    changed = {_watched[type(row)] for row in rows if type(row) in _watched}
    for name in changed:
        bump(session, name)
    if changed:
        session.info.setdefault(_CHANGED, set()).update(changed)


@event.listens_for(Session, "after_commit")
def _changes_committed(session: Session) -> None:
    # Again once committed: a copy read between the flush and the commit holds the old row.
    for name in session.info.pop(_CHANGED, ()):
        forget(name)


@event.listens_for(Session, "after_rollback")
def _changes_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


class SharedVersions:
    """The versions another process may have bumped, as this process last read them."""

    def __init__(self, check_seconds: float = CHECK_SECONDS) -> None:
        self.check_seconds = check_seconds
        self._seen: dict[str, int] = {}
        self._next_check = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        return time.monotonic() >= self._next_check

    def poll(self, session: Session) -> None:
        """When due, read the database's versions and forget the kinds that moved."""
        with self._lock:
            if not self.due():
                return
            self._next_check = time.monotonic() + self.check_seconds
        rows = session.execute(select(CacheVersion.name, CacheVersion.version)).all()
        with self._lock:
            for name, version in rows:  # a kind first counted since the last poll moved too
                if self._seen.get(name, 0) != version:
                    forget(name)
                self._seen[name] = version
