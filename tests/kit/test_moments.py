"""Moments for people: to the minute, in UTC, with how long ago; counts with the right noun."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bantico.kit.moments import moment, plural

NOW = datetime(2026, 12, 4, 23, 20, 31, 497177, tzinfo=UTC)


def test_a_moment_is_shown_to_the_minute_with_how_long_ago() -> None:
    assert moment(NOW - timedelta(seconds=5), now=NOW) == "2026-12-04 23:20 UTC (just now)"
    assert moment(NOW - timedelta(minutes=1), now=NOW).endswith("(1 minute ago)")
    assert moment(NOW - timedelta(hours=3, minutes=5), now=NOW).endswith("(3 hours ago)")
    assert moment(NOW - timedelta(days=2), now=NOW) == "2026-12-02 23:20 UTC (2 days ago)"
    # ISO text as the API gives it, another offset, or no offset (taken as UTC).
    assert moment("2026-12-04T23:20:31.497177+00:00", now=NOW) == "2026-12-04 23:20 UTC (just now)"
    paris = datetime(2026, 12, 5, 0, 10, tzinfo=timezone(timedelta(hours=1)))
    assert moment(paris, now=NOW).startswith("2026-12-04 23:10 UTC")
    assert moment(datetime(2026, 12, 4, 22, 0), now=NOW).startswith("2026-12-04 22:00 UTC")


def test_nothing_is_never_or_what_the_caller_says() -> None:
    assert moment(None) == "never" and moment("", never="not yet") == "not yet"


def test_counts_take_the_right_noun() -> None:
    assert plural(1, "dispute") == "1 dispute" and plural(2, "dispute") == "2 disputes"
    assert plural(0, "delivery", "deliveries") == "0 deliveries"
