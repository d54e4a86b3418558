"""Visitors replayed through Bantico's real endpoints, as the loader in their browser would send
them, and the time warp that moves what they did back to the planned moments.

Bantico stamps clicks and loader events with the server's clock, as it must for real traffic.
Each request is therefore sent now and noted with the past moment it stands for; afterwards
`Warp.apply` moves the rows it made (events, touches, visitors, sessions, identities) to that
moment. A visitor's requests are sent one after another, so a row's real timestamp tells which
of that visitor's requests made it, even when several visitors are replayed at once.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bantico.demo import shop
from bantico.demo.plan import BASE36, Step, Visitor
from bantico.tracking.models import Event, Identity, Touch, VisitSession
from bantico.tracking.models import Visitor as VisitorRow

CONTEXT_KEYS = ("linkId", "campaignId", "source", "medium", "content", "leadId")
SESSION_IDLE = timedelta(minutes=30)  # the loader's session cookie
DRIFT = timedelta(seconds=1)  # at most this far past its moment, so steps keep their order
TABLES: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (Event, "visitor_id", ("occurred_at", "received_at")),
    (Touch, "visitor_id", ("occurred_at",)),
    (VisitorRow, "id", ("first_seen_at", "last_seen_at")),
    (VisitSession, "visitor_id", ("started_at", "last_seen_at")),
    (Identity, "visitor_id", ("created_at",)),
)


class DemoFailed(RuntimeError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def now() -> datetime:
    return datetime.now(UTC)


class Warp:
    """Real request times, per visitor, and the past moments they stand for."""

    def __init__(self) -> None:
        self._marks: dict[str, tuple[list[datetime], list[datetime]]] = {}
        self._clicks: dict[str, datetime] = {}

    def mark(self, visitor_id: str, moment: datetime) -> None:
        """Call just before sending a request for `visitor_id` that happened at `moment`."""
        reals, moments = self._marks.setdefault(visitor_id, ([], []))
        reals.append(now())
        moments.append(moment)

    def click(self, click_id: str, moment: datetime) -> None:
        """Clicks are found by id: an unfurler's or a bounced click has no visitor."""
        self._clicks[click_id] = moment

    def moment(self, visitor_id: str | None, real: datetime) -> datetime | None:
        marks = self._marks.get(visitor_id or "")
        if marks is None:
            return None
        reals, moments = marks
        index = max(bisect_right(reals, real) - 1, 0)
        return moments[index] + min(max(real - reals[index], timedelta()), DRIFT)

    def apply(self, session: Session, project_id: str, since: datetime) -> int:
        """Move the project's rows stamped at or after `since`; returns how many moved."""
        moved = 0
        for model, key, columns in TABLES:
            recent = or_(*(getattr(model, column) >= since for column in columns))
            rows = session.execute(select(model).where(model.project_id == project_id, recent))
            for row in rows.scalars():
                click = self._clicks.get(row.click_id or "") if isinstance(row, Event) else None
                for column in columns:
                    real = getattr(row, column)
                    target = click or self.moment(getattr(row, key), real)
                    if real >= since and target is not None:
                        setattr(row, column, target)
                        moved += 1
        session.flush()
        return moved


class Browser:
    """One visitor's browser with the loader on the shop's pages: first-party cookies for the
    visitor, the session (30 idle minutes) and the link context (the attribution window)."""

    def __init__(
        self,
        http: httpx.Client,
        token: str,
        warp: Warp,
        visitor: Visitor,
        link_keys: dict[str, str],
        window: timedelta = timedelta(days=30),
    ) -> None:
        self.http, self.token, self.warp, self.visitor = http, token, warp, visitor
        self.link_keys, self.window = link_keys, window
        self.rng = random.Random(visitor.id)
        self.session_id = ""
        self.last_at: datetime | None = None
        self.context: dict[str, Any] | None = None
        self.context_at: datetime | None = None
        self.page: str | None = None

    def replay(self) -> None:
        for step in self.visitor.steps:
            self.step(step)

    def step(self, step: Step) -> None:
        if step.kind == "unfurl":
            self._follow(step, self.rng.choice(shop.UNFURLERS), None)
            return
        self._tick(step.at)
        if step.kind == "bounce":
            self._follow(step, self.visitor.user_agent, step.referrer)
        elif step.kind == "click":
            self._click(step)
        elif step.kind in ("land", "page"):
            query = urlencode({f"utm_{k}": v for k, v in (step.utm or {}).items()})
            url = shop.SITE + step.path + (f"?{query}" if query else "")
            referrer = step.referrer if step.kind == "land" else self.page
            self._page_view(step.at, url, referrer, utm=step.utm)
        elif step.kind == "track":
            self._send(step.at, step.name or "event", url=self.page)
        else:
            self._send(step.at, "identify", url=shop.SITE + step.path, user=step.user)

    def checkout_context(self, at: datetime) -> dict[str, str]:
        """`bantico.context()` at checkout, with "" for what is unknown, as the docs' checkout
        code passes it into the Dodo metadata."""
        self._tick(at)
        cookie = self._cookie(at) or {}
        found = {key: cookie.get(key) or "" for key in CONTEXT_KEYS}
        return {**found, "visitorId": self.visitor.id, "sessionId": self.session_id}

    def _tick(self, at: datetime) -> None:
        if self.last_at is None or at - self.last_at > SESSION_IDLE:
            self.session_id = "".join(self.rng.choices(BASE36, k=20))
        self.last_at = at

    def _cookie(self, at: datetime) -> dict[str, Any] | None:
        if self.context_at is not None and at - self.context_at > self.window:
            self.context = self.context_at = None
        return self.context

    def _follow(self, step: Step, user_agent: str, referrer: str | None) -> str:
        key = self.link_keys[step.link or self.visitor.channel.name]
        headers = {"user-agent": user_agent}
        if referrer:
            headers["referer"] = referrer
        response = self.http.get(f"/l/{key}", headers=headers, follow_redirects=False)
        if response.status_code != 302:
            raise DemoFailed(f"/l/{key} answered {response.status_code}", response.status_code)
        location = response.headers["location"]
        self.warp.click(dict(parse_qsl(urlsplit(location).query))["bantico_click"], step.at)
        return location

    def _click(self, step: Step) -> None:
        location = urlsplit(self._follow(step, self.visitor.user_agent, step.referrer))
        query = parse_qsl(location.query)
        ids = dict(query)
        kept = [(name, value) for name, value in query if not name.startswith("bantico_")]
        url = urlunsplit(location._replace(query=urlencode(kept)))
        utm = {name[4:]: value for name, value in kept if name.startswith("utm_")}
        self._page_view(
            step.at + timedelta(seconds=1),
            url,
            step.referrer,
            utm=utm,
            clickId=ids["bantico_click"],
            linkId=ids["bantico_link"],
        )

    def _page_view(self, at: datetime, url: str, referrer: str | None, **fields: Any) -> None:
        fields = {k: v for k, v in fields.items() if v}
        self._send(at, "page_view", url=url, referrer=referrer, **fields)
        self.page = url
        if urlsplit(url).path == "/pricing":  # the loader's automatic pricing_view
            self._send(at + timedelta(seconds=1), "pricing_view", url=url)

    def _send(self, at: datetime, name: str, **fields: Any) -> None:
        body = {
            "token": self.token,
            "name": name,
            "visitorId": self.visitor.id,
            "sessionId": self.session_id,
            "context": self._cookie(at) or dict.fromkeys(CONTEXT_KEYS),
            **{k: v for k, v in fields.items() if v is not None},
        }
        self.warp.mark(self.visitor.id, at)
        response = self.http.post(
            "/api/collect", content=json.dumps(body), headers={"content-type": "text/plain"}
        )
        if response.status_code != 200:
            message = f"/api/collect answered {response.status_code}: {response.text}"
            raise DemoFailed(message, response.status_code)
        context = response.json().get("context")
        if context:
            self.context, self.context_at = context, at
