"""The isolation walk: calls with the answers they expect, and the checks every answer passes.

An answer may not show the other project's marker (in any case) or any of its random ids,
except what the call itself sends (an error may echo an id); once a write has sent a value of
the other project (which it may have stored in the viewer's rows, say a visitor id an event
named), later answers may show it. An id of the other project is answered exactly as a
made-up id would be (`swap`). The other project's rows are compared before and after the
reads, and after the writes.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response

from tests.projects.scene import Scene, Shop, rows_of

READS = {"GET", "HEAD", "OPTIONS"}
MADE_UP = {"link": "lnk_madeUp000000", "payment": "pay_madeup_0", "key": "key_madeUp0000"}


@dataclass(frozen=True)
class Call:
    """One request and the status it expects. `swap`: (an id of the other project it sends, a
    made-up id): both must be answered alike. `sends`: other values of the other project it
    sends. `shows`: what of the viewer's own the answer must show (the walk sees real data).
    `options`: more arguments for the client (content, headers)."""

    method: str
    url: str
    status: int = 200
    json: Any = None
    form: dict[str, str] | None = None
    swap: tuple[str, str] | None = None
    sends: tuple[str, ...] = ()
    shows: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def echoes(self) -> tuple[str, ...]:
        """The other project's values this call sends, which its answer may repeat."""
        return (*self.sends, *(self.swap or ())[:1])

    def swapped(self) -> Call:
        """The same call with the made-up id instead of the other project's."""
        assert self.swap is not None
        theirs, made_up = self.swap
        return replace(
            self,
            url=self.url.replace(theirs, made_up),
            json=_swap_in(self.json, theirs, made_up),
            form=_swap_in(self.form, theirs, made_up),
        )


def _swap_in(value: Any, theirs: str, made_up: str) -> Any:
    if isinstance(value, str):
        return value.replace(theirs, made_up)
    if isinstance(value, dict):
        return {k: _swap_in(v, theirs, made_up) for k, v in value.items()}
    return value


Cases = dict[tuple[str, str], Callable[[Scene], list[Call]]]
Send = Callable[[Call], Response]


@dataclass
class Forbidden:
    """What of the other project may not appear: its marker (any case) and its random ids;
    `stored` are those of its values the viewer's own writes stored so far."""

    marker: str
    exact: set[str]
    stored: set[str] = field(default_factory=set)

    def found_in(self, response: Response, echoes: tuple[str, ...]) -> list[str]:
        text = response.text + " " + response.headers.get("location", "")
        for allowed in (*echoes, *self.stored):
            text = text.replace(allowed, "")
        found = sorted(value for value in self.exact if value in text)
        return [self.marker, *found] if self.marker in text.lower() else found


@dataclass
class Walker:
    """Cases, how to send them (as the API or as the dashboard), and what may not appear."""

    cases: Cases
    send: Send
    forbidden: Forbidden

    def calls(self, scene: Scene) -> list[Call]:
        return [call for case in self.cases.values() for call in case(scene)]


def check(call: Call, walker: Walker) -> None:
    response = walker.send(call)
    where = f"{call.method} {call.url}"
    assert response.status_code == call.status, f"{where}: {response.status_code} {response.text}"
    leaked = walker.forbidden.found_in(response, call.echoes)
    assert not leaked, f"{where} shows the other project's {leaked}:\n{response.text[:3000]}"
    missing = [value for value in call.shows if value not in response.text]
    assert not missing, f"{where} does not show the viewer's own {missing}"
    if call.swap is not None:
        assert_like_unknown(call, response, walker.send(call.swapped()))


def assert_like_unknown(call: Call, response: Response, twin: Response) -> None:
    """The other project's id answered exactly as the made-up one (the ids swapped back)."""
    assert call.swap is not None
    theirs, made_up = call.swap
    text = response.text.replace(theirs, made_up)
    diff = "\n".join(difflib.unified_diff(text.splitlines(), twin.text.splitlines(), lineterm=""))
    assert (response.status_code, text) == (twin.status_code, twin.text), (
        f"{call.method} {call.url}: the other project's id is not answered as an unknown id:\n"
        f"{diff}"
    )


def walk(scene: Scene, walkers: list[Walker]) -> int:
    """Every walker's reads, then each walker's writes in turn; the number of calls."""
    planned = [(walker, walker.calls(scene)) for walker in walkers]
    before = rows_of(scene.engine, scene.other.project.id)
    for walker, calls in planned:
        for call in (c for c in calls if c.method in READS):
            check(call, walker)
    assert_unchanged(scene, before, "a read")
    for walker, calls in planned:
        for call in (c for c in calls if c.method not in READS):
            check(call, walker)
            for each, _ in planned:
                each.forbidden.stored.update(call.echoes)
    assert_unchanged(scene, before, "a write")
    return sum(len(calls) for _, calls in planned)


def assert_unchanged(scene: Scene, before: dict[str, list[Any]], what: str) -> None:
    after = rows_of(scene.engine, scene.other.project.id)
    changed = sorted(table for table in before if after[table] != before[table])
    assert not changed, f"{what} changed the other project's rows in {changed}"


# Helpers for the cases


def their(kind: str, value: str) -> dict[str, Any]:
    """Call options for an id of the other project: answered as a made-up id would be."""
    return {"swap": (value, MADE_UP.get(kind, f"madeup-{kind}"))}


def dates() -> str:
    """Fixed dates around the scene: a default range ends now, which moves between calls."""
    today = datetime.now(UTC).date()
    return f"from={today - timedelta(days=10)}&to={today + timedelta(days=1)}"


def forbidden_of(scene: Scene, *, with_project_id: bool) -> Forbidden:
    other: Shop = scene.other
    exact = other.secrets(scene.session) | ({other.project.id} if with_project_id else set())
    return Forbidden(other.marker, exact)
