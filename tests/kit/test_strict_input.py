"""JSON from the outside, strictly: no NaN or Infinity, bounded nesting, no NUL character, no
unpaired surrogate — a 400 that says where, on the loader's endpoint and on the API, never a
500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.kit import strict_input
from bantico.tracking.models import Event
from tests.conftest import Project

GOOD = {
    "token": "",
    "name": "page_view",
    "visitorId": "v_visitor0001",
    "sessionId": "s_session0001",
    "url": "https://shop.example/",
}


def loader_body(project: Project, **fields: object) -> str:
    return json.dumps({**GOOD, "token": project.token, **fields})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": -Infinity}', "-Infinity"),
        ("[1e999]", "1e999"),
        ("[" * 1000 + "]" * 1000, "nested deeper than 32"),
        ('{"a": {"b": "x\\u0000y"}}', "a.b contains a NUL"),
        ('{"a\\u0000": 1}', "a key in body contains a NUL"),
        ('{"a": ["x\\ud800"]}', "a.0 contains an unpaired surrogate"),
        ('{"a": {"\\udfffb": 1}}', "a key in a contains an unpaired surrogate"),
        ("{nope", "not valid JSON"),
    ],
)
def test_what_is_refused_and_why(raw: str, reason: str) -> None:
    with pytest.raises(strict_input.MalformedJson, match=reason):
        strict_input.loads(raw)


def test_what_is_accepted() -> None:
    nested: object = 1
    for _ in range(31):
        nested = [nested]
    assert strict_input.loads(json.dumps({"deep": nested, "f": 1.5, "u": "ü"}))["f"] == 1.5
    assert strict_input.loads('["\\ud83d\\ude00"]') == ["\U0001f600"]  # a pair is one character


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "x\\u0000y"}',  # the escape, in bytes
        b'{"a": "x\\ud800"}',
        b'{"a": "x\xed\xa0\x80"}',  # an encoded surrogate: decoded with 'surrogatepass'
        '{"a\\u0000": 1}'.encode("utf-16"),  # UTF-16: the escape's bytes hold NULs
        '{"a": "\\u0000"}'.encode("utf-32-le"),
        ("[" * 33 + "]" * 33).encode(),
        '{"a": "\ud800"}',  # a str may hold a surrogate itself
    ],
)
def test_the_shortcut_never_lets_a_refused_body_through(raw: bytes | str) -> None:
    """Most bodies skip the walk over every string (`_plainly_within_rules`); whatever the
    walk would refuse is still refused."""
    assert not strict_input._plainly_within_rules(raw)
    with pytest.raises(strict_input.MalformedJson):
        strict_input.loads(raw)


def test_an_ordinary_body_skips_the_walk() -> None:
    body = json.dumps({**GOOD, "u": "ü ☃"}, ensure_ascii=False).encode()
    assert strict_input._plainly_within_rules(body)
    assert strict_input.loads(body)["u"] == "ü ☃"
    assert not strict_input._plainly_within_rules("[" * 33 + "]" * 33)


@pytest.mark.parametrize(
    "props",
    [
        '{"plan": NaN}',
        '{"plan": Infinity}',
        '{"plan": "pro\\u0000"}',
        "[" * 1000 + "]" * 1000,
        '{"plan": "\\ud800"}',
        # Found by tests/fuzz: the message naming the NUL held the surrogate key, and could
        # not be encoded (a 500).
        '{"\\ud800": "\\u0000"}',
    ],
)
def test_the_loader_endpoint_refuses_it_with_400(
    project: Project, session: Session, props: str
) -> None:
    raw = loader_body(project).removesuffix("}") + f', "props": {props}}}'
    response = project.client.post(
        "/api/collect", content=raw, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert session.execute(select(Event)).scalars().all() == []


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/v1/events", '{"name": "signup_started", "visitorId": "v_visitor0001", '
         '"props": {"x": NaN}}'),
        ("/api/v1/identify", '{"visitorId": "v_visitor0001", "traits": {"age": Infinity}}'),
        ("/api/v1/links", '{"destinationUrl": "https://shop.example/\\u0000"}'),
        ("/api/v1/events", '{"name": "signup_started", "props": {"x": "\\udc00"}}'),
    ],
)  # fmt: skip
def test_the_api_refuses_it_with_400(project: Project, path: str, raw: str) -> None:
    response = project.client.post(
        path, content=raw, headers={**project.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed"


def test_the_api_still_reads_good_json(project: Project) -> None:
    response = project.client.post(
        "/api/v1/links", headers=project.headers, json={"destinationUrl": "https://shop.example/"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/l/ab%00c", "path"),
        ("/api/v1/links/%00abc", "path"),
        ("/api/v1/payments/pay%00", "path"),
        ("/api/v1/links?campaign=a%00b", "query parameter 'campaign'"),
        ("/api/v1/reports/attribution?source=%00", "query parameter 'source'"),
        ("/app/reports?campaign=%00", "query parameter 'campaign'"),
    ],
)
def test_a_nul_character_in_a_url_is_a_400_before_any_lookup(
    project: Project, path: str, where: str
) -> None:
    """On PostgreSQL a NUL in a looked-up key or filter was a 500 (DataError)."""
    response = project.client.get(path, headers=project.headers, follow_redirects=False)
    assert response.status_code == 400, response.text
    assert where in response.json()["error"]["message"]
    assert "NUL" in response.json()["error"]["message"]


def test_urls_without_nul_go_on() -> None:
    assert strict_input._nul_in_url({"path": "/l/abc", "query_string": b"a=%2500"}) is None
