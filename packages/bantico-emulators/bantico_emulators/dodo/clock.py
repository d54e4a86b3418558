"""Emulated time: real UTC time plus an offset that tests can move forward."""

from __future__ import annotations

import calendar
import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Timestamps, billing dates and secret-rotation windows read this clock.

    Webhook `webhook-timestamp` headers deliberately do not: receivers compare them with their
    own wall clock (±5 minutes, Standard Webhooks), so they must stay real.
    """

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        return self.now()


def add_interval(moment: datetime, interval: str, count: int = 1) -> datetime:
    """The next billing date: calendar months and years, clamped to the month's last day."""
    if interval == "Day":
        return moment + timedelta(days=count)
    if interval == "Week":
        return moment + timedelta(weeks=count)
    months = count * (12 if interval == "Year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))
