"""Every request gets an id, and a request that fails unexpectedly is one log line — its id, the
route and the exception's type — never a traceback holding a whole SQL statement, its
parameters or a secret. The client gets a 500 with the same id, to quote to support."""

from __future__ import annotations

import logging
import random
import re
from contextvars import ContextVar

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("bantico.request")
request_id: ContextVar[str] = ContextVar("request_id", default="-")
_GIVEN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def route_of(scope: Scope) -> str:
    """The route's pattern (`/api/v1/payments/{payment_id}`) when one matched, else the path."""
    route = scope.get("route")
    path = getattr(route, "path", None) or scope.get("path", "?")
    return str(path)[:200]


def failed(error: BaseException, scope: Scope) -> None:
    log.error(
        "request.failed id=%s method=%s route=%s error=%s",
        request_id.get(),
        scope.get("method", "?"),
        route_of(scope),
        type(error).__name__,
    )


def _given_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if _GIVEN.match(given) else None
    return None


def _new_id() -> str:
    """16 hex digits. A request id only ties a log line to what the client was told: it needs
    to be unique enough, not unpredictable, so the fast generator does (`random` reseeds
    itself in each forked worker); `uuid.uuid4()` cost a system call per request."""
    return f"{random.getrandbits(64):016x}"


class RequestIds:
    """Pure ASGI: one header scan, one context variable, and a `send` that notes whether the
    response has started (to know whether a 500 can still be sent)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given_id(scope["headers"]) or _new_id()
        token = request_id.set(rid)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True  # the first message sent is always the response's start
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            failed(error, scope)
            if not started:
                error_body = {
                    "code": "internal",
                    "message": "something went wrong on our side; quote this request id when "
                    "you report it",
                    "requestId": rid,
                }
                answer = JSONResponse(
                    {"error": error_body}, status_code=500, headers={"x-request-id": rid}
                )
                await answer(scope, receive, send)
        finally:
            request_id.reset(token)
