"""Reading Dodo's lists in creation-time windows, page by page, and storing what changed.

Dodo caps `page_number` at an unpublished depth and answers 422 past it (docs/dodo.md §4): a
window that goes deeper is narrowed and listed again from page 0, to what is older than the last
item read when the pages came newest first, otherwise in two halves. The deepest page answered
is remembered, so later windows are narrowed before they reach the cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.integrations.dodo import payloads
from bantico.integrations.dodo.client import PAGE_SIZE, DodoClient, DodoFailed
from bantico.integrations.dodo.sync_state import Listing, SyncState
from bantico.integrations.provider import Kind
from bantico.kit.errors import BanticoError

MIN_WINDOW = timedelta(seconds=2)


class TooDense(BanticoError):
    status_code = 502
    code = "dodo_too_dense"


@dataclass
class Stored:
    seen: int = 0
    stored: int = 0


# What a page is compared on: an item whose values match the stored row is not stored again.
COMPARED: dict[Kind, tuple[str, ...]] = {
    "payments": ("status",),
    "refunds": ("status", "amount"),
    "disputes": ("status", "stage", "amount"),
}


def _known(session: Session, kind: Kind, project_id: str, ids: list[str]) -> dict[str, Any]:
    """What Bantico has of these objects, to compare with the page."""
    model, id_column = payloads.RECORDS[kind]
    columns = [getattr(model, name) for name in COMPARED[kind]]
    rows = session.execute(
        select(id_column, *columns).where(
            model.project_id == project_id, model.provider == "dodo", id_column.in_(ids)
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}


ID_FIELD = {"payments": "payment_id", "refunds": "refund_id", "disputes": "dispute_id"}


def store_page(
    session: Session, kind: Kind, project_id: str, mode: str, items: list[dict[str, Any]]
) -> Stored:
    """Store the items that are new or changed; unchanged ones cost one shared read."""
    ids = [str(i.get(ID_FIELD[kind])) for i in items]
    known = _known(session, kind, project_id, ids)
    result = Stored(seen=len(items))
    for item, object_id in zip(items, ids, strict=True):
        record = payloads.parse(kind, item, mode)
        if known.get(object_id) == tuple(getattr(record, name) for name in COMPARED[kind]):
            continue
        payloads.store(session, kind, project_id, mode, item, via="sync")
        result.stored += 1
    return result


Fetch = Callable[[int], list[dict[str, Any]]]
Commit = Callable[[list[dict[str, Any]]], Stored]


def list_windows(
    client: DodoClient,
    kind: Kind,
    listing: Listing,
    state: SyncState,
    commit: Commit,
    *,
    keep_going: Callable[[], bool] = lambda: True,
    with_retries: Callable[[Callable[[], Any]], Any] = lambda fetch: fetch(),
) -> Stored:
    """Read `listing`'s windows until none is left (or `keep_going` says stop). `commit` stores
    a page and saves `state` in one transaction: call it after the window has advanced."""
    total = Stored()
    while listing.windows and keep_going():
        window = listing.windows[-1]
        if state.page_cap is not None and window.page > state.page_cap:
            _split(listing, kind)
            continue
        try:
            items = with_retries(
                partial(client.page, kind, window.page, since=window.since, until=window.until)
            )
        except DodoFailed as error:
            if error.status != 422 or window.page == 0:
                raise
            # Past Dodo's page cap: the pages before this one were answered.
            state.page_cap = window.page - 1
            _split(listing, kind)
            continue
        window.saw([payloads.parse_time(i.get("created_at")) for i in items])
        if len(items) < PAGE_SIZE:
            listing.windows.pop()
        else:
            window.page += 1
        listing.listed += len(items)
        done = commit(items)
        total.seen += done.seen
        total.stored += done.stored
    return total


def _split(listing: Listing, kind: Kind) -> None:
    window = listing.windows.pop()
    narrower = window.narrower()
    if len(narrower) == 2:
        if window.until - window.since < MIN_WINDOW:
            listing.windows.append(window)
            raise TooDense(
                f"Dodo lists more {kind} created around {window.since:%Y-%m-%d %H:%M:%S} than "
                "its page limit lets Bantico read"
            )
        # The halves list again what the window's pages held (all full): not counted twice.
        listing.listed -= window.page * PAGE_SIZE
    listing.windows.extend(narrower)
