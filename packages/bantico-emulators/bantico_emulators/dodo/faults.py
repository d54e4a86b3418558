"""Fault injection for the Dodo API routes: rate limits, server errors, slowness, an outage."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bantico_emulators.dodo.records import Mode


@dataclass(slots=True, kw_only=True)
class Fault:
    """Answer the next `count` matching requests with `status` (after sleeping `delay` seconds).

    `status=None` only delays. `path` matches by prefix inside a mode, e.g. `/payments`.
    """

    status: int | None = 503
    count: int = 1
    path: str | None = None
    method: str | None = None
    mode: Mode | None = None
    delay: float = 0.0
    retry_after: int | None = None

    def matches(self, mode: Mode, method: str, path: str) -> bool:
        return (
            (self.mode is None or self.mode == mode)
            and (self.method is None or self.method.upper() == method)
            and (self.path is None or path.startswith(self.path))
        )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self.down = False  # every API request answers 503 until this is cleared
        self.hits = 0  # faults served so far: the SDK's own retries can absorb some

    def inject(
        self,
        status: int | None = 503,
        *,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        mode: Mode | None = None,
        delay: float = 0.0,
        retry_after: int | None = None,
    ) -> Fault:
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(
            status=status,
            count=count,
            path=path,
            method=method,
            mode=mode,
            delay=delay,
            retry_after=retry_after,
        )
        with self._lock:
            self._queue.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
        self.down = False

    def take(self, mode: Mode, method: str, path: str) -> Fault | None:
        """The first matching fault, with one use consumed."""
        with self._lock:
            for fault in self._queue:
                if fault.matches(mode, method, path):
                    self.hits += 1
                    fault.count -= 1
                    if fault.count <= 0:
                        self._queue.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(f.count for f in self._queue)
