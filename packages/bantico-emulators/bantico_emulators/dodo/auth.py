"""Who is calling which host: faults first, then the bearer key, as Dodo checks them. (The
rate limiter runs before both, in `gateway`.)

The emulator serves both of Dodo's hosts from one server: `/test/...` stands for
`test.dodopayments.com` and `/live/...` for `live.dodopayments.com`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from bantico_emulators.dodo.errors import DodoError, unauthorized
from bantico_emulators.dodo.records import ApiKey, Ledger, Mode
from bantico_emulators.dodo.state import EmulatorState

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_STATUS_CODES = {
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


@dataclass(frozen=True, slots=True)
class Caller:
    state: EmulatorState
    ledger: Ledger
    key: ApiKey


def emulator_state(request: Request) -> EmulatorState:
    return cast(EmulatorState, request.app.state.emulator)


def key_for(state: EmulatorState, mode: Mode, authorization: str | None) -> ApiKey | None:
    """The key a bearer `authorization` header names, if it is valid on `mode`'s host."""
    scheme, _, token = (authorization or "").partition(" ")
    key = state.keys.get(token.strip()) if scheme.lower() == "bearer" else None
    # A key only authenticates against its own environment's host (TS-MCP probeApiKey).
    return key if key is not None and key.mode == mode else None


def authenticate(request: Request) -> Caller:
    state = emulator_state(request)
    _, mode_name, rest = request.url.path.split("/", 2)
    mode = cast(Mode, mode_name)
    _inject_faults(state, mode, request.method, "/" + rest)
    key = key_for(state, mode, request.headers.get("authorization"))
    if key is None:
        raise unauthorized()
    if key.read_only and request.method not in _READS:
        raise unauthorized()
    return Caller(state, state.ledger(key.business_id, mode), key)


CallerDep = Annotated[Caller, Depends(authenticate)]


def _inject_faults(state: EmulatorState, mode: Mode, method: str, path: str) -> None:
    if state.faults.down:
        raise DodoError(503, "SERVICE_UNAVAILABLE", "Service unavailable")
    fault = state.faults.take(mode, method, path)
    if fault is None:
        return
    if fault.delay:
        time.sleep(fault.delay)  # sync dependency: runs in the thread pool, not the event loop
    if fault.status is not None:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        code = _STATUS_CODES.get(fault.status, "ERROR")
        raise DodoError(fault.status, code, f"Injected {fault.status}", headers=headers)
