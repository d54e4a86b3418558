"""Property test of the loader's `POST /api/collect`, which anyone may call: bodies shaped like
the loader's (the project's token, or a wrong one) whose every field may be of the wrong type,
hold NaN or Infinity literals, huge numbers, NUL characters, unpaired surrogates, long strings or
deep nesting, plus bodies that are not JSON objects at all. Every answer is a 2xx, or a 4xx that
says what is wrong, with the CORS headers; never a 5xx; each within the request budget."""

from __future__ import annotations

from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from tests.fuzz.budget import within_budget
from tests.fuzz.conftest import Seed
from tests.fuzz.shapes import (
    ANY_TEXT,
    CLEAN_VALUES,
    JSON_VALUES,
    LONG_TEXT,
    ODD_BODIES,
    POISON,
    encoded,
    fuzz_settings,
    mostly,
)

MAX_EXAMPLES = 120
CONTENT_TYPES = ["text/plain", "text/plain;charset=UTF-8", "application/json", None]
CLIENT_ID = st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True)
URL = mostly(st.sampled_from(["https://shop.example/pricing?utm_source=x", "/a"]), LONG_TEXT)
LABEL = mostly(st.text(max_size=20), LONG_TEXT)
NAMES = st.sampled_from(["page_view", "identify", "signup_started", "checkout.started"])
BREAKS = st.sampled_from([0, 0, 1, 1, 2, 3])  # how many fields get a value of another kind
BROKEN = mostly(CLEAN_VALUES, POISON)


def _loader_fields(seeded: Seed) -> dict[str, st.SearchStrategy[Any]]:
    """What the loader sends besides the token, its name and its two ids."""
    context = {name: LABEL for name in ("campaignId", "source", "medium", "content")}
    links = st.sampled_from(seeded.link_ids)
    user = {"id": LABEL, "email": st.one_of(st.emails(), LABEL), "name": LABEL}
    return {
        "url": URL,
        "referrer": URL,
        "clickId": LABEL,
        "linkId": st.one_of(links, LABEL),
        "utm": st.fixed_dictionaries({}, optional=context),
        "context": st.fixed_dictionaries({}, optional={**context, "linkId": links}),
        "props": mostly(
            st.dictionaries(st.text(max_size=8), CLEAN_VALUES, max_size=4),
            st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=4),  # NUL, unpaired surrogates…
            odds=2,
        ),
        "user": st.fixed_dictionaries({}, optional=user),
    }


@st.composite
def _shaped(draw: st.DrawFn, fields: st.SearchStrategy[dict[str, Any]]) -> bytes:
    """A plausible body, with a few fields of another type, NaN, NUL, nested too deep…"""
    body = draw(fields)
    for _ in range(draw(BREAKS)):
        name = draw(st.sampled_from(sorted({*body, "token", "visitorId", "props", "user"})))
        body[name] = draw(BROKEN)
    raw: bytes = draw(encoded(body))
    return raw


def loader_bodies(seeded: Seed) -> st.SearchStrategy[bytes]:
    required = {
        "token": mostly(st.just(seeded.project.token), st.text(max_size=64)),
        "name": NAMES,
        "visitorId": CLIENT_ID,
        "sessionId": CLIENT_ID,
    }
    fields = st.fixed_dictionaries(required, optional=_loader_fields(seeded))
    return mostly(_shaped(fields), ODD_BODIES, odds=9)


def test_collect_answers_every_body_without_a_server_error(seeded: Seed) -> None:
    client = seeded.project.client

    @fuzz_settings(MAX_EXAMPLES)
    @given(body=loader_bodies(seeded), content_type=st.sampled_from(CONTENT_TYPES))
    def post(body: bytes, content_type: str | None) -> None:
        note(f"body: {body!r}")
        headers = {"content-type": content_type} if content_type else {}
        response = within_budget(
            "POST /api/collect",
            lambda: client.post("/api/collect", content=body, headers=headers),
        )
        assert response.status_code < 500, response.text
        assert response.headers["access-control-allow-origin"] == "*"
        if response.status_code >= 400:
            assert response.json()["error"]["message"], response.text
        else:
            assert response.status_code == 200 and response.json()["ok"] is True

    post()
