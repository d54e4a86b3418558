"""Refuse oversized request bodies with 413 before they are read into memory."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(BaseException):
    """Raised from `receive` once the body passes the limit. Not an `Exception`: FastAPI turns
    any `Exception` met while reading a body into a 400 "error parsing the body"; this one must
    reach `BodySizeLimit`, which answers 413."""


# HTTP versions whose bodies are framed by Content-Length unless sent chunked.
_FRAMED = frozenset({"1.0", "1.1"})


class BodySizeLimit:
    """Pure ASGI. A declared Content-Length over the limit is refused before anything is read;
    a chunked body is counted as it arrives and refused once it passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        if (
            chunked is None
            and scope.get("http_version") in _FRAMED
            and (declared is None or declared.isdigit())
        ):
            # HTTP/1.x frames a body by its Content-Length (within the limit, checked above),
            # or there is none: the server never hands on more, so nothing needs counting.
            # Only a chunked body (no length announced) is counted as it arrives.
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await too_large(self.max_bytes)({"type": "http"}, _nothing_to_receive, send)


def too_large(max_bytes: int) -> JSONResponse:
    """The 413 answer to a body over `max_bytes` (CORS-open: the loader's posts get it too)."""
    return JSONResponse(
        {
            "error": {
                "code": "payload_too_large",
                "message": f"request body is larger than {max_bytes} bytes",
            }
        },
        status_code=413,
        headers={"access-control-allow-origin": "*"},
    )


async def _nothing_to_receive() -> Message:  # pragma: no cover - a response never reads
    raise AssertionError("a response does not receive")
