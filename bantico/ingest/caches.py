"""Short-lived in-memory copies of rows the hot paths read on every request (a tracked link by
its key, a project by its public token, a link's owner), and the functions that make them stale.

The copies hold no authoritative state. Each entry expires `ttl` seconds after it was stored;
with a `version` (a kind of `bantico.ingest.cache_versions`) a change to the rows makes every
copy of that kind stale at once, in this process and, within `cache_versions.CHECK_SECONDS`, in
every other one sharing the database. `forget_links()` and `forget_projects()` do that by hand
in this process (the ORM does it on every change it flushes, see `cache_versions.watch`).

Storage is `cachetools.TTLCache` (expiry and least-recently-used eviction when full) behind a
lock: the group commit's writer thread and the event loop both use the same copies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import cachetools

from bantico.ingest import cache_versions

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def forget_links() -> None:
    """Make this process's copies of tracked links stale (every key, every id)."""
    cache_versions.forget(cache_versions.LINKS)


def forget_projects() -> None:
    """Make this process's copies of projects stale (every token)."""
    cache_versions.forget(cache_versions.PROJECTS)


class TTLCache(Generic[K, V]):
    """A small thread-safe read-through cache whose entries expire `ttl` seconds after they
    were stored; when full, the least recently used entry makes room.

    With a `version`, a change to the rows makes every entry stale at once: take `stamp()`
    before reading the row and give it to `put`, so that a change committed during the read
    outdates the copy too."""

    def __init__(
        self,
        *,
        ttl: float,
        max_size: int,
        version: str | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.version = version
        self._entries: cachetools.TTLCache[K, tuple[int, V]] = cachetools.TTLCache(
            maxsize=max_size, ttl=ttl, timer=timer
        )
        self._lock = threading.Lock()

    def stamp(self) -> int:
        """The version now: read the row after this, and give it to `put`."""
        return cache_versions.current(self.version) if self.version else 0

    def get(self, key: K) -> V | None:
        """The copy of `key`, or None if there is none, it expired or its rows changed."""
        with self._lock:
            try:  # `[key]`, not `.get(key)`: one look-up instead of two on the hot paths' hits
                entry = self._entries[key]
            except KeyError:
                return None
            if entry[0] != self.stamp():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: K, value: V, stamp: int | None = None) -> None:
        """Keep `value`, unless its rows changed since `stamp` (then it is stale already)."""
        with self._lock:
            now = self.stamp()
            if stamp is not None and stamp != now:
                return
            self._entries[key] = (now, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            self._entries.expire()
            return len(self._entries)
