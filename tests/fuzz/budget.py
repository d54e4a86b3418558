"""The budget every fuzz request is held to, and the session's tally of cases and worst ones.

Each request runs under `tracemalloc`, which slows Python down: the time budget includes its
overhead. Wall time and the peak of memory allocated during the call are recorded, and a
request over either budget fails its test. Worst cases measured on SQLite and PostgreSQL, in
one process and on two xdist workers: 0.4 to 0.65 s (`PUT /api/v1/integrations/dodo`, which
asks the emulated Dodo's two hosts) and 1.2 MB. The budget leaves three times that time (CI's
two workers share two cores with PostgreSQL and Chromium) and six times that memory; the
unbounded requests it is there to catch took seconds and gigabytes.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

MAX_SECONDS = 2.0
MAX_MEGABYTES = 8.0

T = TypeVar("T")


@dataclass
class Worst:
    value: float = 0.0
    label: str = ""

    def offer(self, value: float, label: str) -> None:
        if value > self.value:
            self.value, self.label = value, label


@dataclass
class Tally:
    """Cases run and the worst request by time and by memory, for the session's summary."""

    cases: int = 0
    seconds: Worst = field(default_factory=Worst)
    megabytes: Worst = field(default_factory=Worst)

    def record(self, label: str, seconds: float, megabytes: float) -> None:
        self.cases += 1
        self.seconds.offer(seconds, label)
        self.megabytes.offer(megabytes, label)

    def merge(self, other: dict[str, Any]) -> None:
        """Add a tally sent by an xdist worker (see `as_dict`)."""
        self.cases += other["cases"]
        self.seconds.offer(other["seconds"], other["seconds_label"])
        self.megabytes.offer(other["megabytes"], other["megabytes_label"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "seconds": self.seconds.value,
            "seconds_label": self.seconds.label,
            "megabytes": self.megabytes.value,
            "megabytes_label": self.megabytes.label,
        }

    def summary(self) -> str:
        return (
            f"fuzz: {self.cases} cases, worst {self.seconds.value:.2f} s ({self.seconds.label}), "
            f"worst {self.megabytes.value:.1f} MB ({self.megabytes.label}); "
            f"budget {MAX_SECONDS} s and {MAX_MEGABYTES} MB per request"
        )


TALLY = Tally()


@contextmanager
def _traced() -> Iterator[Callable[[], float]]:
    """Trace allocations for the block; yields a function giving the peak so far in MB."""
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    try:
        yield lambda: (tracemalloc.get_traced_memory()[1] - baseline) / 1e6
    finally:
        if started_here:
            tracemalloc.stop()


def within_budget(label: str, call: Callable[[], T]) -> T:
    """Run one request, record it in `TALLY`, and fail when it went over the budget."""
    with _traced() as peak:
        started = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - started
        megabytes = peak()
    TALLY.record(label, seconds, megabytes)
    assert seconds <= MAX_SECONDS, f"{label} took {seconds:.2f} s (budget {MAX_SECONDS} s)"
    assert megabytes <= MAX_MEGABYTES, (
        f"{label} peaked at {megabytes:.1f} MB (budget {MAX_MEGABYTES} MB)"
    )
    return result
