"""What polling must remember between passes and restarts, kept as JSON on the integration.

Dodo's lists filter by creation time only and cap how deep `page_number` may go (docs/dodo.md
§4), so history is listed in creation-time windows. A listing job (the backfill, the periodic
sweep that sees late changes, a range asked for with `--since`) keeps, for each list, the windows
still to read and the next page of the current one; each page is stored in the same transaction
as the page number after it, so a pass that stops resumes at the next page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bantico.integrations.dodo.client import KINDS
from bantico.integrations.provider import Kind

JOB_ORDER = ("range", "backfill", "sweep")


@dataclass
class Window:
    since: datetime
    until: datetime
    page: int = 0
    # The creation time of the last item read, and whether the pages so far came newest first
    # (Dodo does not document its order; what the pages show is what counts).
    last: datetime | None = None
    newest_first: bool = True

    def saw(self, created: list[datetime]) -> None:
        for moment in created:
            if self.last is not None and moment > self.last:
                self.newest_first = False
            self.last = moment

    def narrower(self) -> list[Window]:
        """What is left of the window, in windows whose pages start again at 0. When the pages
        came newest first, what is left is what is older than the last item read (that
        instant included: ids dedupe); otherwise two halves, the older first."""
        if self.newest_first and self.last is not None and self.since < self.last < self.until:
            return [Window(self.since, self.last)]
        middle = self.since + (self.until - self.since) / 2
        return [Window(self.since, middle), Window(middle, self.until)]


@dataclass
class Listing:
    """One list's share of a job: the windows still to read, the newest last."""

    windows: list[Window]
    listed: int = 0


@dataclass
class Job:
    name: str
    since: datetime
    until: datetime
    lists: dict[str, Listing]

    @classmethod
    def new(cls, name: str, since: datetime, until: datetime) -> Job:
        return cls(name, since, until, {k: Listing([Window(since, until)]) for k in KINDS})

    @property
    def done(self) -> bool:
        return all(not listing.windows for listing in self.lists.values())

    def listing(self, kind: Kind) -> Listing:
        return self.lists.setdefault(kind, Listing([]))


@dataclass
class SyncState:
    jobs: list[Job] = field(default_factory=list)
    # The deepest page Dodo answered before a 422; None until one was refused.
    page_cap: int | None = None
    # Per list, the creation time up to which new items were listed.
    listed_until: dict[str, datetime] = field(default_factory=dict)
    swept_at: datetime | None = None
    # Per step ("payments", "refunds", "disputes", "details", "webhooks", "watch"), the last
    # failure in words; a step that succeeds again clears its own.
    errors: dict[str, str] = field(default_factory=dict)
    # Full reads of listed payments since the current backfill began (for "done of total").
    details_done: int = 0

    def job(self, name: str) -> Job | None:
        return next((j for j in self.jobs if j.name == name), None)

    def add(self, job: Job) -> None:
        """Replace a job of the same name; keep them in the order they are worked on."""
        self.jobs = [j for j in self.jobs if j.name != job.name] + [job]
        self.jobs.sort(key=lambda j: JOB_ORDER.index(j.name) if j.name in JOB_ORDER else 99)

    def drop_done(self) -> None:
        self.jobs = [j for j in self.jobs if not j.done]

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": [_job_json(j) for j in self.jobs],
            "pageCap": self.page_cap,
            "listedUntil": {k: v.isoformat() for k, v in self.listed_until.items()},
            "sweptAt": self.swept_at.isoformat() if self.swept_at else None,
            "errors": dict(self.errors),
            "detailsDone": self.details_done,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SyncState:
        data = data or {}
        swept = data.get("sweptAt")
        return cls(
            jobs=[_job(j) for j in data.get("jobs", [])],
            page_cap=data.get("pageCap"),
            listed_until={
                k: datetime.fromisoformat(v) for k, v in data.get("listedUntil", {}).items()
            },
            swept_at=datetime.fromisoformat(swept) if swept else None,
            errors=dict(data.get("errors", {})),
            details_done=int(data.get("detailsDone", 0)),
        )


def _job_json(job: Job) -> dict[str, Any]:
    return {
        "name": job.name,
        "since": job.since.isoformat(),
        "until": job.until.isoformat(),
        "lists": {
            kind: {
                "listed": listing.listed,
                "windows": [
                    [
                        w.since.isoformat(),
                        w.until.isoformat(),
                        w.page,
                        w.last.isoformat() if w.last else None,
                        w.newest_first,
                    ]
                    for w in listing.windows
                ],
            }
            for kind, listing in job.lists.items()
        },
    }


def _job(data: dict[str, Any]) -> Job:
    return Job(
        name=data["name"],
        since=datetime.fromisoformat(data["since"]),
        until=datetime.fromisoformat(data["until"]),
        lists={
            kind: Listing(
                windows=[_window(w) for w in listing["windows"]],
                listed=int(listing.get("listed", 0)),
            )
            for kind, listing in data.get("lists", {}).items()
        },
    )


def _window(data: list[Any]) -> Window:
    since, until, page, *rest = data
    last, newest_first = [*rest, None, True][:2]
    return Window(
        datetime.fromisoformat(since),
        datetime.fromisoformat(until),
        int(page),
        datetime.fromisoformat(last) if last else None,
        bool(newest_first),
    )
