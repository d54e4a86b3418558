"""Troubleshooting: the diagnostics checklist, run against the project's own data each time the
page opens, with what each check saw and how to fix it."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request, Response

from bantico.dashboard.auth import ProjectContext
from bantico.dashboard.render import render
from bantico.db import utcnow
from bantico.deps import SessionDep, SettingsDep
from bantico.diagnostics import checks

router = APIRouter(include_in_schema=False)

STATUS = {
    "pass": ("✓", "Pass"),
    "warn": ("!", "Warning"),
    "fail": ("✕", "Fail"),
}
# Where each check's fix is done, as (project page, link text).
FIX_PAGES = {
    "dodo_connected": ("settings/integrations/dodo", "Open Dodo Payments settings"),
    "webhooks": ("settings/integrations/dodo", "Open Dodo Payments settings"),
    "metadata": ("install", "See the checkout example on the Install page"),
    "metadata_matches": ("install", "See the checkout example on the Install page"),
    "loader": ("install", "Open the Install page"),
    "identify": ("install", "See identify() on the Install page"),
}


@router.get("/app/p/{project_id}/troubleshooting")
def troubleshooting_page(
    request: Request,
    scope: ProjectContext,
    session: SessionDep,
    settings: SettingsDep,
    mode: str | None = None,
) -> Response:
    """Runs every check (asking Dodo whether the key still works); "Run again" reloads."""
    chosen = mode if mode in ("live", "test") else None
    result = checks.run(session, settings, scope.project.id, mode=chosen, probe=True)
    counts = Counter(check["status"] for check in result["checks"])
    summary = ", ".join(
        f"{counts[status]} {words}"
        for status, words in (("fail", "failed"), ("warn", "with a warning"), ("pass", "passed"))
        if counts[status]
    )
    return render(
        request,
        "troubleshooting.html",
        section="troubleshooting",
        result=result,
        summary=summary,
        status_words=STATUS,
        fix_pages=FIX_PAGES,
        checked_at=utcnow(),
    )
