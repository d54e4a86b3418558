"""What every report takes: a project, a mode (test and live never mix), a model and a range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bantico.kit.errors import Invalid

Dimension = Literal["link", "campaign", "source", "medium", "content", "lead"]
Model = Literal["last_touch", "first_touch", "linear"]
Mode = Literal["live", "test"]
COLUMNS: dict[str, str] = {
    "link": "link_id",
    "campaign": "campaign_id",
    "source": "source",
    "medium": "medium",
    "content": "content",
    "lead": "lead_id",
}
MODEL_ALIASES = {
    "last": "last_touch",
    "first": "first_touch",
    "last_touch": "last_touch",
    "first_touch": "first_touch",
    "linear": "linear",
}


# Reports cover dates in this calendar range, and at most MAX_DAYS of it at once: a range of
# centuries would take the server down, and Dodo's payments start in this century.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_DAYS = 5 * 366


@dataclass(frozen=True)
class Filters:
    project_id: str
    mode: str
    model: str
    since: datetime
    until: datetime


def make_filters(
    project_id: str,
    *,
    mode: str,
    model: str,
    since: datetime | None,
    until: datetime | None,
    now: datetime | None = None,
) -> Filters:
    """Default range: the last 30 days up to now. `until` is exclusive."""
    if model not in MODEL_ALIASES:
        raise Invalid("model must be last_touch, first_touch or linear")
    now = now or datetime.now(UTC)
    for name, value in (("from", since), ("to", until)):
        if value is not None and not EARLIEST <= _utc(value) <= LATEST:  # type: ignore[operator]
            raise Invalid(f"{name} must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    until = _utc(until) or now
    since = _utc(since) or max(EARLIEST, until - timedelta(days=30))
    if since >= until:
        raise Invalid("from must be before to")
    if until - since > timedelta(days=MAX_DAYS):
        raise Invalid(f"a report covers at most {MAX_DAYS} days (five years); narrow from/to")
    return Filters(project_id, mode, MODEL_ALIASES[model], since, until)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
