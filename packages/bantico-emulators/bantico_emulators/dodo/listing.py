"""Dodo's list conventions: `created_at_gte/lte` windows, newest first, 0-based page numbers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Protocol, TypeVar

from fastapi import Query

from bantico_emulators.dodo.errors import invalid
from bantico_emulators.dodo.ids import as_utc

PageNumber = Annotated[int, Query(ge=0, description="0-based page number")]
PageSize = Annotated[int, Query(ge=1, le=100, description="Default 10, at most 100")]
CreatedFrom = Annotated[datetime | None, Query(description="created_at ≥ this")]
CreatedTo = Annotated[datetime | None, Query(description="created_at ≤ this")]


class Dated(Protocol):
    @property
    def created_at(self) -> datetime: ...


T = TypeVar("T", bound=Dated)


def select(
    rows: Iterable[T],
    *,
    gte: datetime | None,
    lte: datetime | None,
    page_number: int,
    page_size: int,
    max_page_number: int | None = None,
) -> list[T]:
    """One page of `rows` inside the window. Dodo does not document its sort order; newest first
    is what its dashboard shows, and ties keep insertion order so pages never overlap."""
    # Assumption: Dodo does not publish what a page past its cap answers; a 422, like any
    # other out-of-range query parameter here.
    if max_page_number is not None and page_number > max_page_number:
        raise invalid(f"page_number may be at most {max_page_number}")
    low, high = gte and as_utc(gte), lte and as_utc(lte)
    kept = [
        r
        for r in rows
        if (low is None or r.created_at >= low) and (high is None or r.created_at <= high)
    ]
    kept.sort(key=lambda r: r.created_at, reverse=True)
    start = page_number * page_size
    return kept[start : start + page_size]
