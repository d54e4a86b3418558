"""`create_emulator()`: one ASGI app serving Dodo's test host under `/test`, its live host under
`/live`, the hosted checkout page under `/checkout` and the control API under `/_emulator`.
The `Gateway` in front of the two hosts applies Dodo's rate limits and counts requests."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from bantico_emulators.dodo import api, checkout_page, control, dispute_routes, webhook_routes
from bantico_emulators.dodo.errors import DodoError
from bantico_emulators.dodo.gateway import Gateway
from bantico_emulators.dodo.state import EmulatorState


def create_emulator(state: EmulatorState | None = None) -> FastAPI:
    """The emulator app. Keep `state` to drive it from Python; `app.state.emulator` holds it."""
    app = FastAPI(
        title="Dodo Payments emulator",
        description="A local stand-in for Dodo Payments' API, hosted checkout and webhooks. "
        "Point the SDK at `<base>/test` or `<base>/live` instead of Dodo's two hosts.",
    )
    app.state.emulator = state or EmulatorState()
    for mode in ("test", "live"):
        app.include_router(api.router, prefix=f"/{mode}", tags=[f"{mode} mode"])
        app.include_router(webhook_routes.router, prefix=f"/{mode}", tags=[f"{mode} mode"])
        app.include_router(dispute_routes.router, prefix=f"/{mode}", tags=[f"{mode} mode"])
    app.include_router(checkout_page.router)
    app.include_router(control.router)
    app.add_middleware(Gateway)

    @app.exception_handler(DodoError)
    async def _dodo_error(_: Request, error: DodoError) -> Response:
        if not error.has_body:
            return Response(status_code=error.status, headers=error.headers)
        body = {"code": error.code, "message": error.message}
        return JSONResponse(body, status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return JSONResponse({"code": "BAD_REQUEST", "message": "Body is not valid JSON"}, 400)
        message = "; ".join(
            f"{'.'.join(str(part) for part in p.get('loc', ()))}: {p.get('msg')}" for p in problems
        )
        return JSONResponse({"code": "INVALID_REQUEST", "message": message}, 422)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, error: HTTPException) -> Response:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "ERROR")
        detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
        return JSONResponse({"code": code, "message": detail}, error.status_code)

    return app
