"""Listing in creation-time windows under a page cap, whatever order Dodo answers in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bantico.integrations.dodo.client import DodoFailed
from bantico.integrations.dodo.listing import Stored, list_windows
from bantico.integrations.dodo.sync_state import Job, Listing, SyncState, Window

START = datetime(2026, 9, 1, tzinfo=UTC)


class FakeDodo:
    """`count` payments a minute apart, listed `order` first, refusing pages past `cap`."""

    def __init__(self, count: int, cap: int, order: str) -> None:
        self.items = [
            {"payment_id": f"pay_{i}", "created_at": (START + timedelta(minutes=i)).isoformat()}
            for i in range(count)
        ]
        self.cap, self.order, self.requests = cap, order, 0

    def page(
        self, kind: str, page: int, *, since: datetime | None, until: datetime | None
    ) -> list[dict[str, Any]]:
        self.requests += 1
        if page > self.cap:
            raise DodoFailed(f"page_number may be at most {self.cap}", 422)
        kept = [
            i
            for i in self.items
            if (since is None or datetime.fromisoformat(i["created_at"]) >= since)
            and (until is None or datetime.fromisoformat(i["created_at"]) <= until)
        ]
        if self.order == "newest":
            kept.reverse()
        elif self.order == "shuffled":  # a stable order that is neither
            kept.sort(key=lambda i: hash(i["payment_id"]) % 97)
        return kept[page * 100 : page * 100 + 100]


def listed(dodo: FakeDodo) -> tuple[set[str], SyncState, Listing]:
    seen: list[str] = []
    state = SyncState()
    listing = Listing([Window(START, START + timedelta(minutes=len(dodo.items)))])

    def commit(items: list[dict[str, Any]]) -> Stored:
        seen.extend(i["payment_id"] for i in items)
        return Stored(seen=len(items))

    list_windows(dodo, "payments", listing, state, commit)  # type: ignore[arg-type]
    return set(seen), state, listing


@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
def test_every_item_is_listed_under_the_cap_in_any_order(order: str) -> None:
    dodo = FakeDodo(1000, cap=1, order=order)
    seen, state, listing = listed(dodo)
    assert seen == {i["payment_id"] for i in dodo.items}
    assert state.page_cap == 1 and listing.windows == []


def test_newest_first_pages_are_not_read_twice() -> None:
    dodo = FakeDodo(1000, cap=1, order="newest")
    _, _, listing = listed(dodo)
    # Ten pages of items, each narrowing costs one refused page, plus the last short page.
    assert dodo.requests <= 10 + 5 + 1
    assert 1000 <= listing.listed <= 1010


def test_halving_does_not_count_items_twice() -> None:
    dodo = FakeDodo(1000, cap=1, order="shuffled")
    _, _, listing = listed(dodo)
    assert 1000 <= listing.listed <= 1010


def test_windows_survive_a_restart() -> None:
    window = Window(START, START + timedelta(days=1), page=3)
    window.saw([START + timedelta(hours=5), START + timedelta(hours=2)])
    state = SyncState(jobs=[])
    job = Job.new("backfill", START, START + timedelta(days=1))
    job.lists["payments"].windows = [window]
    state.add(job)
    again = SyncState.from_json(state.to_json())
    [restored] = again.jobs[0].lists["payments"].windows
    assert restored == window and restored.narrower() == [Window(START, window.last)]  # type: ignore[arg-type]
