"""Moments in words for people: `2026-12-04 23:20 UTC (5 minutes ago)`, never microseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def ago(moment: datetime, now: datetime) -> str:
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    raise AssertionError("unreachable")


def moment(
    value: datetime | str | None, *, never: str = "never", now: datetime | None = None
) -> str:
    """`value` (a datetime, or ISO text as the API gives it) to the minute in UTC, with how
    long ago; `never` when there is none."""
    if value is None or value == "":
        return never
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{when:%Y-%m-%d %H:%M} UTC ({ago(when, now or datetime.now(UTC))})"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 dispute`, `2 disputes`."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
