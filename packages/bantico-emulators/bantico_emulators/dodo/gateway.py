"""In front of the API hosts (`/test/...`, `/live/...`): the rate limiter and the request tally.

The control API, the hosted checkout page and the docs pass straight through: they are not
Dodo's API. A plain ASGI middleware, because the list routes answer `JSONResponse`s directly
and errors are built by exception handlers; both must carry the `X-RateLimit-*` headers.
"""

from __future__ import annotations

from typing import cast

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bantico_emulators.dodo.auth import key_for
from bantico_emulators.dodo.records import MODES
from bantico_emulators.dodo.state import EmulatorState
from bantico_emulators.dodo.traffic import route_of


class Gateway:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mode, _, rest = cast(str, scope["path"]).lstrip("/").partition("/")
        if mode not in MODES:
            await self.app(scope, receive, send)
            return
        state = cast(EmulatorState, scope["app"].state.emulator)
        method, route = cast(str, scope["method"]), route_of(rest)
        extra: list[tuple[bytes, bytes]] = []
        rule = state.options.rate_limit
        key = key_for(state, mode, Headers(scope=scope).get("authorization"))
        # Assumption: unauthenticated requests (Dodo: 20/s and 100/min per IP) are not limited
        # here; a key that is valid on this host counts, even where it may not write.
        if key is not None and rule is not None:
            # Assumption: the limit is per account, with test and live metered apart.
            verdict = state.limiter.take((key.business_id, mode), rule)
            if not verdict.allowed:
                state.requests.record(method, route, 429)
                # Assumption: Dodo documents the 429, not its body; this is its usual error
                # shape, with the code the emulator's injected 429s carry too.
                body = {"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}
                await JSONResponse(body, 429, headers=verdict.headers())(scope, receive, send)
                return
            extra = [(k.lower().encode(), v.encode()) for k, v in verdict.headers().items()]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                # Counted before the client can see the answer, so a test reading the tally
                # right after a call finds it there.
                started = True
                state.requests.record(method, route, message["status"])
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:  # Starlette's outermost middleware answers it with a 500
                state.requests.record(method, route, 500)
            raise
