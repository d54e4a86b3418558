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
    CLEAN_VALUES,
    ODD_BODIES,
    POISON,
    RARELY,
    either,
    encoded,
    fuzz_settings,
    mostly,
)

MAX_EXAMPLES = 120
CONTENT_TYPES = ["text/plain", "text/plain;charset=UTF-8", "application/json", None]
CLIENT_ID = st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True)
URL = st.sampled_from(["https://shop.example/pricing?utm_source=x", "/relative", "javascript:1"])
LABEL = st.text(max_size=20)


def _loader_fields(seeded: Seed) -> dict[str, st.SearchStrategy[Any]]:
    """What the loader sends besides the token, each field possibly anything."""
    context = {name: either(LABEL) for name in ("campaignId", "source", "medium", "content")}
    user = {"id": either(LABEL), "email": either(st.emails()), "name": either(LABEL)}
    return {
        "visitorId": either(CLIENT_ID),
        "sessionId": either(CLIENT_ID),
        "url": either(URL),
        "referrer": either(URL),
        "clickId": either(LABEL),
        "linkId": either(st.sampled_from(seeded.link_ids)),
        "utm": either(st.fixed_dictionaries({}, optional=context)),
        "context": either(
            st.fixed_dictionaries(
                {}, optional={**context, "linkId": st.sampled_from(seeded.link_ids)}
            )
        ),
        "props": either(st.dictionaries(st.text(max_size=8), CLEAN_VALUES, max_size=4)),
        "user": either(st.fixed_dictionaries({}, optional=user)),
    }


@st.composite
def _shaped(draw: st.DrawFn, fields: st.SearchStrategy[dict[str, Any]]) -> bytes:
    body = draw(fields)
    if draw(RARELY):  # one field NaN, 1e400, NUL, an unpaired surrogate, nested too deep…
        body[draw(st.sampled_from(sorted(body)))] = draw(POISON)
    raw: bytes = draw(encoded(body))
    return raw


def loader_bodies(seeded: Seed) -> st.SearchStrategy[bytes]:
    token = either(st.just(seeded.project.token))
    name = either(st.sampled_from(["page_view", "identify", "signup_started", "link_clicked"]))
    fields = st.fixed_dictionaries({"token": token, "name": name}, optional=_loader_fields(seeded))
    shaped = _shaped(fields)
    return mostly(shaped, ODD_BODIES, odds=9)


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
