"""A tally of the API requests the emulator answered, so a benchmark can count calls per
payment and a test can see what a client asked for."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


def route_of(path: str) -> str:
    """The path with its ids blanked: `/payments/pay_1` → `/payments/{id}`,
    `/webhooks/ep_1/secret` → `/webhooks/{id}/secret`. Dodo's paths alternate resource, id."""
    parts = path.strip("/").split("/")
    return "/" + "/".join("{id}" if i % 2 else part for i, part in enumerate(parts))


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[tuple[str, str]] = Counter()
        self._statuses: Counter[int] = Counter()

    def record(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self._routes[(method, route)] += 1
            self._statuses[status] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return self._statuses.total()

    @property
    def too_many(self) -> int:
        """Requests answered 429, by the rate limiter or by an injected fault."""
        with self._lock:
            return self._statuses[429]

    def count(self, method: str | None = None, route: str | None = None) -> int:
        """Requests to `route` (e.g. `/payments/{id}`) with `method`; None matches any."""
        with self._lock:
            return sum(
                n
                for (m, r), n in self._routes.items()
                if method in (None, m) and route in (None, r)
            )

    def by_status(self) -> dict[int, int]:
        with self._lock:
            return dict(self._statuses)

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._statuses.clear()

    def snapshot(self) -> dict[str, Any]:
        """The JSON form `GET /_emulator/requests` answers."""
        with self._lock:
            return {
                "total": self._statuses.total(),
                "too_many_requests": self._statuses[429],
                "by_status": {str(s): n for s, n in sorted(self._statuses.items())},
                "by_route": {
                    f"{m} {r}": n for (m, r), n in sorted(self._routes.items(), key=_by_route)
                },
            }


def _by_route(item: tuple[tuple[str, str], int]) -> tuple[str, str]:
    (method, route), _ = item
    return route, method
