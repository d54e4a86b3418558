"""Every request gets an id, and a request that fails unexpectedly is one log line — its id, the
route and the exception's type — never a traceback holding a whole SQL statement, its
parameters or a secret. The client gets a 500 with the same id, to quote to support."""

from __future__ import annotations

import logging
import re
import uuid
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


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _GIVEN.match(given) else uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
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
