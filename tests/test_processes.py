"""Several Bantico processes on one database behave as one: two real `bantico serve` processes,
or one with two workers; a link edited through one is followed by the others within a
second."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.conftest import Project
from tests.factories import make_link

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def bantico_serve(database_url: str, *args: str) -> Iterator[str]:
    """`bantico serve *args` in its own process on `database_url`; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "BANTICO_DATABASE_URL": database_url,
        "BANTICO_SECRET_KEY": "test-secret-key-not-for-production",
        "BANTICO_DODO_SYNC_INTERVAL_SECONDS": "0",
    }
    env.pop("BANTICO_PUBLIC_URL", None)
    command = [sys.executable, "-m", "bantico", "serve", "--port", str(port), *args]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield _started(process, f"http://127.0.0.1:{port}", log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _started(process: subprocess.Popen[bytes], base: str, log: IO[str]) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"bantico serve did not start: {log.read()[-2000:]}")
        time.sleep(0.1)


def destination(base: str, key: str) -> str:
    response = httpx.get(f"{base}/l/{key}", headers={"User-Agent": BROWSER})
    assert response.status_code == 302, response.text
    return response.headers["location"].split("?")[0]


def spring_link(session: Session, project: Project) -> str:
    """The link `spring`, to https://a.example/, committed; its id."""
    link = make_link(
        session, project_id=project.id, key="spring", destination_url="https://a.example/"
    )
    session.commit()
    return link.id


def move_to_b(base: str, project: Project, link_id: str) -> None:
    """Edit the link's destination to https://b.example/ through the server at `base`."""
    edited = httpx.patch(
        f"{base}/api/v1/links/{link_id}",
        headers=project.headers,
        json={"destinationUrl": "https://b.example/"},
    )
    assert edited.status_code == 200, edited.text


def test_two_processes_on_one_database_follow_an_edit_within_a_second(
    project: Project, session: Session, database_url: str
) -> None:
    link_id = spring_link(session, project)
    with ExitStack() as servers:
        first = servers.enter_context(bantico_serve(database_url))
        second = servers.enter_context(bantico_serve(database_url))
        assert destination(first, "spring") == destination(second, "spring") == "https://a.example/"

        move_to_b(first, project, link_id)
        changed_at = time.monotonic()
        assert destination(first, "spring") == "https://b.example/"
        while destination(second, "spring") != "https://b.example/":
            assert time.monotonic() - changed_at < 1.0, "the other process still redirects to a"
            time.sleep(0.05)


def test_workers_of_one_server_follow_an_edit_within_a_second(
    project: Project, session: Session, database_url: str
) -> None:
    link_id = spring_link(session, project)
    with bantico_serve(database_url, "--workers", "2") as base:
        # Each request on a new connection: the kernel spreads them over both workers.
        assert {destination(base, "spring") for _ in range(20)} == {"https://a.example/"}
        move_to_b(base, project, link_id)
        time.sleep(1.0)
        assert {destination(base, "spring") for _ in range(20)} == {"https://b.example/"}
