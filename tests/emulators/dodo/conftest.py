"""A real emulator on a free port per test, the official SDK as its client, and a tiny webhook
receiver that records what it is sent and answers with planned statuses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from dodopayments import DodoPayments

from bantico_emulators.dodo import (
    ONE_TIME_PRODUCT_ID,
    TEST_KEY,
    TIER_2,
    EmulatorOptions,
    EmulatorState,
    RunningEmulator,
    run_emulator,
)

Metadata = dict[str, str | float | bool]
METADATA: Metadata = {
    "linkId": "lnk_8f2a",
    "campaignId": "cmp_spring26",
    "source": "newsletter",
    "medium": "email",
    "content": "hero-cta",
    "leadId": "lead_1234",
}


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: str) -> int:
        with self.lock:
            self.requests.append(Received(headers, body))
            return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def options() -> EmulatorOptions:
    # Dodo's retry schedule, a thousand times faster: immediately, 5 ms, 300 ms, …
    # Tier 2's limits (500/s, 5,000/min) stay out of the way of tests not about them, while
    # every answer still goes through the limiter; test_rate_limits.py sets its own.
    return EmulatorOptions(time_scale=0.001, rate_limit=TIER_2)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[RunningEmulator]:
    with run_emulator() as running:
        yield running


@pytest.fixture
def emu(emulator_server: RunningEmulator, options: EmulatorOptions) -> Iterator[RunningEmulator]:
    """The shared server with a fresh state: nothing leaks from one test to the next."""
    with EmulatorState(options) as state:
        emulator_server.reset(state)
        yield emulator_server


@pytest.fixture
def client(emu: RunningEmulator) -> Iterator[DodoPayments]:
    with DodoPayments(bearer_token=TEST_KEY, base_url=emu.test_url, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            status = box["r"].answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/dodo")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield box["r"]
    server.shutdown()
    server.server_close()
    thread.join()


def buy(
    client: DodoPayments,
    product_id: str = ONE_TIME_PRODUCT_ID,
    metadata: Metadata | None = None,
    email: str = "jane@example.com",
    **extra: Any,
) -> str:
    """A checkout session made as a merchant's server makes it; returns its id."""
    session = client.checkout_sessions.create(
        product_cart=[{"product_id": product_id, "quantity": 1}],
        customer={"email": email, "name": "Jane Doe"},
        return_url="https://shop.example/thanks",
        metadata=METADATA if metadata is None else metadata,
        **extra,
    )
    return session.session_id
