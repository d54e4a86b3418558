"""Ingestion endpoints: the loader's `/api/collect` and the server-side `/api/v1` calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from bantico.deps import ProjectDep, SessionDep
from bantico.ingest import cache_versions
from bantico.ingest.cache_versions import SharedVersions
from bantico.ingest.caches import TTLCache
from bantico.ingest.fastpath import Delegate, answer_exception, read_body, respond
from bantico.ingest.group_commit import group_commit
from bantico.kit import strict_input
from bantico.kit.errors import BanticoError
from bantico.kit.schemas import ApiModel
from bantico.projects.models import Project
from bantico.projects.service import project_for_token
from bantico.tracking import schemas, service

router = APIRouter(tags=["tracking"])

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


class BadBody(BanticoError):
    status_code = 400
    code = "malformed"


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_body(raw: bytes, model: type[ApiModel]) -> Any:
    """The loader posts JSON as text/plain (no CORS preflight), so parse whatever arrives."""
    payload = strict_input.loads(raw)
    if not isinstance(payload, dict):
        raise BadBody("body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise CorsInvalid(_describe(error)) from None


class CorsInvalid(BanticoError):
    status_code = 422
    code = "invalid"


def _cors_error(error: BanticoError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}},
        status_code=error.status_code,
        headers=CORS,
    )


@router.options("/api/collect", include_in_schema=False)
@router.options("/api/config", include_in_schema=False)
def preflight() -> Response:
    return Response(status_code=204, headers=CORS)


# `/api/collect` keeps each token's project for 30 seconds instead of reading it for every
# event. The copy holds no authoritative state: a change to the project (its settings) makes
# every copy stale, in every process within `cache_versions.CHECK_SECONDS`; a deleted
# project's token may keep being accepted for up to 30 seconds (its events then fail).
TOKEN_TTL_SECONDS = 30.0
_OK = b'{"ok":true}'


def _collect_unit(
    data: schemas.CollectIn, projects: TTLCache[str, Project], versions: SharedVersions
) -> Callable[[Session], service.Resolved | BanticoError]:
    def unit(session: Session) -> service.Resolved | BanticoError:
        try:
            versions.poll(session)  # another process's changes, read when due
            project = projects.get(data.token)
            if project is None:
                stamp = projects.stamp()
                project = project_for_token(session, data.token)
                session.expunge(project)  # a detached copy: no later rollback expires it
                projects.put(data.token, project, stamp)
            return service.collect(session, project, data)
        except BanticoError as error:
            return error  # an answer, not a failure: the writes made so far are kept

    return unit


async def collect_raw(
    factory: sessionmaker[Session], raw: bytes
) -> service.Resolved | BanticoError:
    """Parse, validate and record one loader event (committed before this returns, see
    `GroupCommit`); a `BanticoError` is the answer to send (with CORS headers)."""
    try:
        data = parse_body(raw, schemas.CollectIn)
    except BanticoError as error:
        return error
    committer = group_commit(factory)
    projects: TTLCache[str, Project] = committer.cache(
        "projects-by-token", ttl=TOKEN_TTL_SECONDS, version=cache_versions.PROJECTS
    )
    return await committer.run(_collect_unit(data, projects, committer.versions))


def _context_body(resolved: service.Resolved) -> dict[str, Any]:
    assert resolved.context is not None
    return {"ok": True, "context": resolved.context.model_dump(by_alias=True)}


@router.post("/api/collect", response_model=schemas.CollectOut)
async def collect() -> Response:
    """Loader ingestion. Authenticated by the project's public token in the body (sent as
    `text/plain`, which needs no CORS preflight)."""
    return Delegate(collect_asgi)


# The one implementation of `POST /api/collect`, served by the fast path
# (bantico/ingest/fastpath.py) in front of the routing, and by the route above for whatever
# the fast path leaves to the app.
# The body is JSON encoded as `JSONResponse` encodes it, with the CORS headers.
_CORS_RAW = [
    (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in CORS.items()
]
_JSON_TYPE = (b"content-type", b"application/json")
_OK_HEADERS = [*_CORS_RAW, (b"content-length", str(len(_OK)).encode()), _JSON_TYPE]


async def collect_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    app = scope["app"]
    try:
        raw = await read_body(scope, receive, send, app.state.settings.max_body_bytes)
        if raw is None:
            return  # too large: answered 413
        resolved = await collect_raw(app.state.sessionmaker, raw)
    except Exception as error:
        await answer_exception(scope, receive, send, error)
        return
    if isinstance(resolved, BanticoError):
        await _cors_error(resolved)(scope, receive, send)
    elif not resolved.replaces_cookie or resolved.context is None:
        await respond(send, 200, _OK_HEADERS.copy(), _OK)  # a copy: middleware may add to it
    else:
        body = json.dumps(
            _context_body(resolved), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")
        headers = [*_CORS_RAW, (b"content-length", str(len(body)).encode()), _JSON_TYPE]
        await respond(send, 200, headers, body)


@router.get("/api/config", response_model=schemas.LoaderConfig)
def loader_config(token: str, session: SessionDep) -> Response:
    """The project settings the loader needs before it sets any cookie."""
    try:
        project = project_for_token(session, token)
    except BanticoError as error:
        return _cors_error(error)
    config = schemas.LoaderConfig(
        pricing_path=project.pricing_path,
        honour_gpc=project.honour_gpc,
        window_days=project.attribution_window_days,
    )
    return JSONResponse(
        config.model_dump(by_alias=True),
        headers={**CORS, "Cache-Control": "public, max-age=300"},
    )


@router.post("/api/v1/events", status_code=202)
def server_event(
    data: schemas.EventIn, project: ProjectDep, session: SessionDep
) -> schemas.Accepted:
    """Record an event from your server (e.g. `signup_completed`). Without `context`, the
    event inherits the visitor's newest attribution context."""
    return schemas.Accepted(id=service.record_server_event(session, project, data))


@router.post("/api/v1/identify", status_code=202)
def identify(
    data: schemas.IdentifyIn, project: ProjectDep, session: SessionDep
) -> schemas.Accepted:
    """Tie a visitor (or, without `visitorId`, just a user) to an id, email and name."""
    try:
        user = schemas.UserTraits.model_validate(
            {"id": data.id, "email": data.email, "name": data.name, **(data.traits or {})}
        ).require_some()
    except ValueError as error:
        raise CorsInvalid(str(error).splitlines()[-1].strip()) from None
    service.record_identity(session, project, data.visitor_id, user)
    return schemas.Accepted()
