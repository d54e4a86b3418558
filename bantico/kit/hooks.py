"""Announcements from lower layers to the layers built on them, in-process and inside the
announcer's transaction.

Tracking, links and payments must not import attribution or reports, which are built on them,
yet those must react to what happens below: an `identify()` that arrives after a payment
re-attributes it, a click tied to a visitor refreshes the funnel's rollup, a stored payment is
attributed. So the lower package declares a `Hook` (in its own `hooks.py`) and calls it; the
higher one provides the handler; `bantico.wiring.connect_hooks()` connects them once per
process, from every entry point (`create_app`, the CLI, the tests). A hook that is called
before anything was connected raises: a forgotten wiring must fail loudly, never skip an
attribution silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class HookNotConnected(RuntimeError):
    pass


class Hook(Generic[P]):
    """Something that happened, and the handlers to run when it does, in connection order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[P, object]] = []

    def connect(self, handler: Callable[P, object]) -> None:
        """Run `handler` each time this happens (connecting it again changes nothing)."""
        if handler not in self._handlers:
            self._handlers.append(handler)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        if not self._handlers:
            raise HookNotConnected(
                f"nothing handles {self.name}: call bantico.wiring.connect_hooks() at start-up"
            )
        for handler in self._handlers:
            handler(*args, **kwargs)
