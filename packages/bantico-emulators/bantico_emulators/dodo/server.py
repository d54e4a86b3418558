"""Run the emulator on a real port in a background thread, for tests and demos."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import uvicorn
from fastapi import FastAPI

from bantico_emulators.dodo.app import create_emulator
from bantico_emulators.dodo.state import EmulatorState


@dataclass(frozen=True, slots=True)
class RunningEmulator:
    app: FastAPI
    base_url: str  # e.g. http://127.0.0.1:54321

    @property
    def state(self) -> EmulatorState:
        return cast(EmulatorState, self.app.state.emulator)

    def reset(self, state: EmulatorState | None = None) -> EmulatorState:
        """Serve `state` (default: a fresh one) from now on, on the same port. Cheaper than a
        new server per test; closing the previous state is the caller's business."""
        self.app.state.emulator = state or EmulatorState()
        return self.state

    @property
    def test_url(self) -> str:
        """`base_url` for the SDK in test mode (stands for https://test.dodopayments.com)."""
        return f"{self.base_url}/test"

    @property
    def live_url(self) -> str:
        return f"{self.base_url}/live"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_emulator"


@contextmanager
def run_emulator(
    state: EmulatorState | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningEmulator]:
    """Serve the emulator until the block ends. Port 0 picks a free port. A state made here is
    closed on exit; a state passed in (or swapped in by `reset`) stays open: close it, or use
    it as a context manager."""
    own = state is None
    state = state or EmulatorState()
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets, and without it
    # every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Plain asyncio and h11 keep the threaded server free of optional-extra warnings.
    app = create_emulator(state)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        loop="asyncio",
        http="h11",
        ws="none",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="dodo-emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Dodo emulator did not start")
            time.sleep(0.01)
        yield RunningEmulator(app, f"http://{host}:{sock.getsockname()[1]}")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        if own:
            state.close()
