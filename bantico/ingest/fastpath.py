"""Raw-ASGI answers for the busiest endpoints, in front of FastAPI's routing.

`GET|HEAD /l/{key}` and `POST /api/collect` see every visitor. Served through FastAPI they pay
more for the framework (matching included routers one by one, solving dependencies, building
`Request` and `Response` objects and their headers) than for their own work. `FastPath` is a
middleware, the outermost of the app's own, that recognises them with a dictionary look-up or
one prefix test on `scope["path"]` and answers them directly; every other request goes to the
app untouched. The handlers (`bantico.links.redirect.follow_link_asgi`,
`bantico.tracking.routes.collect_asgi`) reuse the routes' logic and send the very same bytes:
status, headers and body. The FastAPI routes stay registered (the OpenAPI document lists them)
and answer whatever the fast path leaves to them (another method, an app mounted under a
`root_path`).

Since the fast path sits outside the other middleware it does their part itself: request
bodies are limited as `BodySizeLimit` limits them (`read_body`), and an exception is answered
by the app's exception handler for it, as `ExceptionMiddleware` would (`answer_exception`);
one without a handler reaches Starlette's `ServerErrorMiddleware` (500) as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bantico.kit.body_size import too_large

# handler(scope, receive, send), or, for a prefix, handler(scope, receive, send, rest_of_path)
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
PrefixHandler = Callable[[Scope, Receive, Send, str], Awaitable[None]]


class Delegate(Response):
    """What a documented route returns to be answered by its endpoint's raw-ASGI handler: the
    route (in the OpenAPI document, and serving what the fast path leaves to the app) and the
    fast path then share one implementation."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


class FastRoutes:
    """The fast path's table: exact paths, and path prefixes followed by one segment."""

    def __init__(self) -> None:
        self.exact: dict[str, dict[str, Handler]] = {}
        self.prefixes: list[tuple[str, frozenset[str], PrefixHandler]] = []

    def add(self, methods: tuple[str, ...], path: str, handler: Handler) -> None:
        """Answer `methods` on exactly `path` with `handler`."""
        for method in methods:
            self.exact.setdefault(path, {})[method] = handler

    def add_prefix(self, methods: tuple[str, ...], prefix: str, handler: PrefixHandler) -> None:
        """Answer `methods` on `prefix` + one non-empty segment (no '/'), as `{param}` matches."""
        self.prefixes.append((prefix, frozenset(methods), handler))


class FastPath:
    """The middleware: `app.add_middleware(FastPath, routes=...)` after every other one."""

    def __init__(self, app: ASGIApp, routes: FastRoutes) -> None:
        self.app = app
        self.exact = routes.exact  # the same objects: routes added later are served too
        self.prefixes = routes.prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path: str = scope["path"]
            methods = self.exact.get(path)
            if methods is not None:
                handler = methods.get(scope["method"])
                if handler is not None:
                    await handler(scope, receive, send)
                    return
            else:
                for prefix, allowed, prefixed in self.prefixes:
                    if path.startswith(prefix):
                        rest = path[len(prefix) :]
                        if rest and "/" not in rest and scope["method"] in allowed:
                            await prefixed(scope, receive, send, rest)
                            return
                        break
        await self.app(scope, receive, send)


def header(scope: Scope, name: bytes) -> str | None:
    """The first `name` header, as `request.headers.get(name)` (names are lower-case)."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def read_body(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> bytes | None:
    """The request body, as `await request.body()` reads it behind `BodySizeLimit`; None if
    it is larger than `max_bytes`, after answering 413 exactly as `BodySizeLimit` does."""
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        await too_large(max_bytes)(scope, receive, send)
        return None
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > max_bytes:
                await too_large(max_bytes)(scope, receive, send)
                return None
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


async def answer_exception(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
    """Answer `error` with the app's handler for its class, as Starlette's ExceptionMiddleware
    does; re-raise it (for ServerErrorMiddleware's 500) if the app has none."""
    handlers: dict[Any, Callable[..., Any]] = scope["app"].exception_handlers
    for cls in type(error).__mro__:
        if cls in handlers:
            if cls is Exception:  # ServerErrorMiddleware's handler, not ExceptionMiddleware's
                break
            handler = handlers[cls]
            request = Request(scope, receive, send)
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, error)
            else:
                response = await run_in_threadpool(handler, request, error)
            if response is not None:
                await response(scope, receive, send)
            return
    raise error


async def respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
