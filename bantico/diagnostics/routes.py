"""`GET /api/v1/diagnostics`: the troubleshooting checklist with a fix for each problem."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from bantico.deps import ProjectDep, SessionDep, SettingsDep
from bantico.diagnostics.checks import run

router = APIRouter(prefix="/api/v1", tags=["diagnostics"])


@router.get("/diagnostics")
def diagnostics(
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
    mode: Literal["live", "test"] | None = None,
) -> dict[str, Any]:
    """Is Dodo connected and its key valid; are webhooks arriving; do checkouts send metadata
    and does it match known links, campaigns and leads; does the loader run; are customers
    identified. Each check answers pass, warn or fail, with the fix."""
    return run(session, settings, project.id, mode=mode)
