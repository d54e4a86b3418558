"""Request bodies are bounded (bantico/kit/body_size.py): a declared or streamed body over the limit
is answered 413 before it is read into memory, on the API as on the dashboard's forms, and the
answer says the limit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bantico.kit.body_size import BodySizeLimit
from tests.conftest import Project

LIMIT = 64 * 1024


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("path", ["/api/v1/links", "/api/v1/events", "/login"])
def test_a_declared_body_over_the_limit_is_413(project: Project, path: str) -> None:
    response = project.client.post(path, headers=project.headers, content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": f"request body is larger than {LIMIT} bytes",
    }


@pytest.mark.parametrize("path", ["/api/v1/links", "/api/collect", "/login"])
def test_a_streamed_body_over_the_limit_is_413_too(project: Project, path: str) -> None:
    """Without a Content-Length the body is counted as it arrives. (FastAPI used to turn the
    refusal into a 400 "error parsing the body" on API routes.)"""
    form = {"content-type": "application/x-www-form-urlencoded"}  # the dashboard reads forms
    response = project.client.post(
        path, headers={**project.headers, **form}, content=chunks(LIMIT + 10_000)
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_at_the_limit_is_read(project: Project) -> None:
    response = project.client.post(
        "/api/v1/links",
        headers={**project.headers, "content-type": "application/json"},
        content=b'{"destinationUrl": "https://a.example/"}' + b" " * (LIMIT - 40),
    )
    assert response.status_code == 201, response.text


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/",
        "headers": headers,
    }


@pytest.mark.parametrize(
    ("headers", "counted"),
    [
        ([], False),  # no body at all
        ([(b"content-length", b"100")], False),  # HTTP/1.1 frames it: the server sends no more
        ([(b"transfer-encoding", b"chunked")], True),  # no length announced: counted
        ([(b"content-length", b"x1")], True),  # a length nobody can trust: counted
    ],
)
def test_only_a_body_of_unknown_length_is_counted(
    headers: list[tuple[bytes, bytes]], counted: bool
) -> None:
    """The cheap path: bodies framed by their Content-Length reach the app with the server's
    own `receive`, no wrapper per message."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(receive)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        raise AssertionError("nothing is answered here")

    middleware = BodySizeLimit(app, max_bytes=LIMIT)
    # On a thread of its own: the browser tests keep an event loop running on the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, middleware(_scope(headers), receive, send)).result()
    assert (seen[0] is not receive) is counted
