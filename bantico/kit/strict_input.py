"""Input as Bantico accepts it from the outside. JSON: standard JSON only (no `NaN` or
`Infinity`, which Python's parser allows), nested at most `MAX_DEPTH` deep, no NUL character
in any string (PostgreSQL cannot store one in text, nor compare a parameter holding one), and no
unpaired surrogate escape such as `"\\ud800"` (no database driver can encode one). URLs and
dashboard forms: no NUL character either (`NoNulInUrls`, `check_form`). Every refusal is a 400
that says where the problem is."""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bantico.kit.errors import BanticoError

MAX_DEPTH = 32
# What `json.loads` makes of a `\uD800`-`\uDFFF` escape that is not half of a pair.
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedInput(BanticoError):
    status_code = 400
    code = "malformed"


class MalformedJson(MalformedInput):
    pass


def _no_constant(name: str) -> Any:
    raise MalformedJson(f"body is not standard JSON: {name} is not a number JSON allows")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise MalformedJson(f"body holds the number {text}, too large for a float")
    return number


def _check(value: Any, path: str, depth: int) -> None:
    """Depth, NUL characters and unpaired surrogates, walked without recursion limits of our
    own."""
    stack = [(value, path, depth)]
    while stack:
        item, where, level = stack.pop()
        if isinstance(item, str):
            _check_text(item, where or "body")
        elif isinstance(item, dict | list):
            if level > MAX_DEPTH:
                raise MalformedJson(f"body is nested deeper than {MAX_DEPTH} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    _check_text(key, where, is_key=True)
                stack.append((child, f"{where}.{key}" if where else str(key), level + 1))


def _check_text(text: str, where: str, *, is_key: bool = False) -> None:
    """`where` names the string, or for a key the object holding it; it is made of keys
    already checked, so the message can always be encoded."""
    if "\x00" in text:
        problem = "a NUL character"
    elif _SURROGATE.search(text):
        problem = "an unpaired surrogate (a \\ud800-\\udfff escape)"
    else:
        return
    place = f"a key in {where or 'body'}" if is_key else where
    raise MalformedJson(f"{place} contains {problem}")


def loads(raw: bytes | str) -> Any:
    """Parse `raw`, or raise `MalformedJson` saying why it is refused."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise MalformedJson(f"body is nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise MalformedJson("body is not valid JSON") from None
    if not _plainly_within_rules(raw):
        _check(value, "", 1)
    return value


def _plainly_within_rules(raw: bytes | str) -> bool:
    """Whether the text alone shows that its value breaks none of the rules, so the walk over
    every string (most of parsing a small body's cost) can be skipped. A parsed string can hold
    a NUL only from a `\\u0000` escape (the parser refuses raw control characters) and an
    unpaired surrogate only from a `\\u` escape or, in bytes, from its encoded form (a 0xED
    lead byte: `json.loads` decodes with 'surrogatepass'); bytes holding a NUL may be UTF-16
    or UTF-32, where the escapes look different. Nesting needs at least as many brackets."""
    if isinstance(raw, bytes):
        if b"\\u" in raw or b"\x00" in raw or b"\xed" in raw:
            return False
        return raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH
    if "\\u" in raw or "\x00" in raw or _SURROGATE.search(raw):
        return False
    return raw.count("{") + raw.count("[") <= MAX_DEPTH


class StrictJsonBodies:
    """Check the JSON bodies of `/api/v1` requests with `loads` before FastAPI parses them
    (its parser takes `NaN`, which PostgreSQL then refuses with a 500)."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/v1/") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PUT", "PATCH")
            or not scope["path"].startswith(self.prefix)
            or b"json" not in dict(scope["headers"]).get(b"content-type", b"")
        ):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                loads(body)
            except MalformedJson as error:
                answer = JSONResponse(
                    {"error": {"code": error.code, "message": error.message}}, status_code=400
                )
                await answer(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def check_form(form: dict[str, str]) -> None:
    """Refuse a submitted form holding a NUL character, naming the field."""
    for name, value in form.items():
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "") or "a field"
            raise MalformedInput(f"form field {field!r} contains a NUL character")


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "the URL's path contains a NUL character (%00)"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "") or "a parameter"
            return f"query parameter {field!r} contains a NUL character (%00)"
    return None


class NoNulInUrls:
    """Answer 400 to any request whose path or query string holds a NUL character, before the
    routes (and the fast path) look it up in the database. Outermost: it guards every route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = _nul_in_url(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        answer = JSONResponse({"error": {"code": "malformed", "message": problem}}, 400)
        await answer(scope, receive, send)
